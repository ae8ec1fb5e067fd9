"""A month of synthetic traffic with planted outages, page alerts and deploys, as OpenMetrics.

Every number the report tests expect is derived here from the planted truth (events per
second, outage minutes, alert runs), not from the code under test.

- shop-api (team payments), availability 99.9%: 10 requests/s; two outages at 5 errors/s
  (60 and 30 minutes); counters scraped every 60 s, half a minute off the interval's
  edges, and reset to zero once mid-month (a restart).
- search-api (team discovery), availability 99.5% written as good/total: 20 requests/s;
  one outage of 2 hours with half the requests failing.
- new-api (team discovery): no series at all (a new service).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ...unit.slo.helpers import spec_header

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp()
END = dt.datetime(2026, 10, 31, tzinfo=dt.UTC).timestamp()  # 30 days
SCRAPE = 60
HOUR, MINUTE = 3600, 60

SHOP_RATE, SHOP_ERRORS = 10.0, 5.0
SHOP_OUTAGES = [(START + 5 * 86400 + 10 * HOUR, 60 * MINUTE), (START + 17 * 86400 + 3 * HOUR, 30 * MINUTE)]
SHOP_RESET = START + 12 * 86400 + 30  # the process restarts: counters start again from 0
SEARCH_RATE = 20.0
SEARCH_OUTAGE = (START + 22 * 86400 + 6 * HOUR, 2 * HOUR)  # half of the requests fail

# Page alerts: runs of firing samples every 30 s (start, end inclusive)
T1 = SHOP_OUTAGES[0][0] + 2 * MINUTE
T2 = SHOP_OUTAGES[1][0] + 1 * MINUTE
SHOP_PAGE_RUNS = [
    (T1, T1 + 50 * MINUTE),  # flaps: resolves for 3 minutes...
    (T1 + 53 * MINUTE, T1 + 60 * MINUTE),  # ...and fires again: one incident T1 .. T1+60m
    (T2, T2 + 25 * MINUTE),  # a second incident
    (T2 + 35 * MINUTE, T2 + 40 * MINUTE),  # 10 minutes later: a third
]
SHOP_INCIDENTS = [(T1, T1 + 60 * MINUTE), (T2, T2 + 25 * MINUTE), (T2 + 35 * MINUTE, T2 + 40 * MINUTE)]
SEARCH_PAGE_RUNS = [(SEARCH_OUTAGE[0] + 3 * MINUTE, SEARCH_OUTAGE[0] + SEARCH_OUTAGE[1])]
SEARCH_INCIDENTS = SEARCH_PAGE_RUNS

# Deploys of shop-api: one 10 minutes before the first page (failed with a 1h window), one quiet
SHOP_DEPLOYS = [T1 - 10 * MINUTE, START + 9 * 86400]

SPECS = {
    "shop-api.yaml": spec_header("shop-api") + """\
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{job="shop", code="500"}'
        total: 'http_requests_total{job="shop"}'
""",
    "search-api.yaml": spec_header("search-api", "discovery") + """\
  - name: availability
    objective: 99.5
    sli:
      ratio:
        good: 'sum(rate(http_requests_total{job="search", code="200"}[{{window}}]))'
        total: 'sum(rate(http_requests_total{job="search"}[{{window}}]))'
""",
    "new-api.yaml": spec_header("new-api", "discovery") + """\
  - name: availability
    objective: 99
    sli:
      ratio:
        errors: 'new_requests_total{code="500"}'
        total: 'new_requests_total'
""",
}


def _in(t: float, spans: list[tuple[float, float]]) -> bool:
    return any(s <= t < s + d for s, d in spans)


@dataclass
class Counter:
    """A counter's samples, and the increase it truly saw between its first and last sample."""

    labels: str
    samples: list[tuple[float, float]] = field(default_factory=list)
    seen: float = 0.0


def counters() -> dict[str, Counter]:
    """Scraped every minute at :30, so no sample sits on the interval's edges."""
    shop_total, shop_err = Counter('{job="shop",code="200"}'), Counter('{job="shop",code="500"}')
    search_ok, search_err = Counter('{job="search",code="200"}'), Counter('{job="search",code="500"}')
    values = {"shop_ok": 1e6, "shop_err": 1e3, "search_ok": 2e6, "search_err": 1e3}  # counters that were running
    t = START - 3600 + 30
    while t <= END + 3600:
        first = not shop_total.samples
        if not first:
            inside = START < t < END
            # what happened during the minute before this scrape
            shop_bad = SHOP_ERRORS * SCRAPE if _in(t - SCRAPE, SHOP_OUTAGES) else 0.0
            search_bad = SEARCH_RATE / 2 * SCRAPE if _in(t - SCRAPE, [SEARCH_OUTAGE]) else 0.0
            increments = {"shop_ok": SHOP_RATE * SCRAPE - shop_bad, "shop_err": shop_bad,
                          "search_ok": SEARCH_RATE * SCRAPE - search_bad, "search_err": search_bad}
            if abs(t - SHOP_RESET) < 1:
                values["shop_ok"] = values["shop_err"] = 0.0
            for key, inc in increments.items():
                values[key] += inc
            if inside and t - SCRAPE > START:
                for counter, key in ((shop_total, "shop_ok"), (shop_err, "shop_err"),
                                     (search_ok, "search_ok"), (search_err, "search_err")):
                    counter.seen += increments[key]
        for counter, key in ((shop_total, "shop_ok"), (shop_err, "shop_err"),
                             (search_ok, "search_ok"), (search_err, "search_err")):
            counter.samples.append((t, values[key]))
        t += SCRAPE
    return {"shop_ok": shop_total, "shop_err": shop_err, "search_ok": search_ok, "search_err": search_err}


def _runs(runs: list[tuple[float, float]], step: float = 30) -> list[float]:
    out: list[float] = []
    for a, b in runs:
        t = a
        while t <= b:
            out.append(t)
            t += step
    return out


def openmetrics() -> str:
    lines = ["# TYPE http_requests_total unknown"]
    for counter in counters().values():
        lines += [f"http_requests_total{counter.labels} {v:.1f} {t:.0f}" for t, v in counter.samples]
    lines.append("# TYPE ALERTS unknown")
    page = 'alertname="{a}",alertstate="{s}",service="{svc}",severity="{sev}",slo="availability",team="{team}"'
    for svc, team, runs in (("shop-api", "payments", SHOP_PAGE_RUNS), ("search-api", "discovery", SEARCH_PAGE_RUNS)):
        name = "".join(p.capitalize() for p in svc.split("-")) + "AvailabilityBudgetBurn"  # the compiler's name
        lines += [f'ALERTS{{{page.format(a=name, s="firing", svc=svc, sev="page", team=team)}}} 1 {t:.0f}'
                  for t in _runs(runs)]
    # noise the report must ignore: a pending page and a firing ticket of shop-api, and a firing page
    # with shop-api's service and slo labels from another SLO tool (Pyrra names its alerts ErrorBudgetBurn)
    lines += [f'ALERTS{{{page.format(a="ErrorBudgetBurn", s="firing", svc="shop-api", sev="page", team="payments")}}}'
              f' 1 {t:.0f}' for t in _runs([(START + 25 * 86400, START + 25 * 86400 + 1200)])]
    lines += [f'ALERTS{{{page.format(a="X", s="pending", svc="shop-api", sev="page", team="payments")}}} 1 {t:.0f}'
              for t in _runs([(START + 2 * 86400, START + 2 * 86400 + 600)])]
    lines += [f'ALERTS{{{page.format(a="Y", s="firing", svc="shop-api", sev="ticket", team="payments")}}} 1 {t:.0f}'
              for t in _runs([(START + 3 * 86400, START + 3 * 86400 + 7200)])]
    lines.append("# TYPE deploys_total unknown")
    count, t = 0, START - 3000
    samples = []
    while t <= END:
        count += sum(1 for d in SHOP_DEPLOYS if t - 300 < d <= t)
        samples.append((t, count))
        t += 300
    lines += [f'deploys_total{{service="shop-api"}} {c} {t:.0f}' for t, c in samples]
    return "\n".join(lines) + "\n# EOF\n"
