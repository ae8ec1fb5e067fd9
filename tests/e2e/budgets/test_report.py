"""`sre report` against a real Prometheus over a backfilled month with planted outages.

Expected numbers come from month.py's planted truth, worked out by hand here:
T = 30 days = 2,592,000 s. Counters are scraped at :30, so the samples inside the
interval span T - 60 s, and Prometheus extrapolates errors and requests alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reliability.cli import main

from . import month

pytestmark = pytest.mark.e2e
T = 30 * 86400
SEEN = T - 60  # seconds of traffic between the first and last scrape inside the interval
SHOP_BAD = 5 * (60 + 30) * 60  # 5 errors/s for 60 and 30 minutes = 27,000
SHOP_RATIO = SHOP_BAD / (10 * SEEN)
SEARCH_BAD = 10 * 2 * 3600  # half of 20 requests/s for 2 hours = 72,000
SEARCH_RATIO = SEARCH_BAD / (20 * SEEN)
ARTEFACTS = Path(__file__).resolve().parents[3] / "out" / "test-artefacts"


@pytest.fixture(scope="module")
def report(month_prometheus, tmp_path_factory) -> tuple[dict, Path]:  # type: ignore[no-untyped-def]
    prom, specs = month_prometheus
    out = tmp_path_factory.mktemp("report")
    code = main(["report", "--prometheus", prom.url, "--from", "2026-10-01", "--to", "2026-10-31",
                 "--specs", str(specs), "--out", str(out), "--deploys", "deploys_total"])
    assert code == 0
    return json.loads((out / "report.json").read_text()), out


def _slo(data: dict, service: str) -> dict:
    return next(r for r in data["slos"] if r["service"] == service)


def test_the_planted_truth_is_what_month_says() -> None:
    counters = month.counters()
    assert counters["shop_err"].seen == SHOP_BAD
    assert counters["shop_ok"].seen + counters["shop_err"].seen == 10 * SEEN
    assert counters["search_err"].seen == SEARCH_BAD


def test_attainment_is_exact_from_counter_increases(report) -> None:  # type: ignore[no-untyped-def]
    data, _ = report
    shop, search = _slo(data, "shop-api"), _slo(data, "search-api")
    # 1 - 27,000 / 25,919,400 = 0.998958309...: the counter reset mid-month changes nothing
    assert shop["attainment"] == pytest.approx(1 - SHOP_RATIO, abs=1e-9)
    assert shop["met"] is False and shop["objective"] == 0.999
    assert search["attainment"] == pytest.approx(1 - SEARCH_RATIO, abs=1e-9)  # 0.998611..., objective 0.995
    assert search["met"] is True
    # events over the whole interval: Prometheus extrapolates the 30 s at each edge
    assert shop["events"] == pytest.approx(10 * T, rel=1e-9)
    assert shop["bad_events"] == pytest.approx(SHOP_BAD * T / SEEN, rel=1e-9)


def test_budget_allowed_and_consumed(report) -> None:  # type: ignore[no-untyped-def]
    data, _ = report
    shop, search = _slo(data, "shop-api")["budget"], _slo(data, "search-api")["budget"]
    assert shop["allowed_ratio"] == pytest.approx(0.001)
    assert shop["consumed_ratio"] == pytest.approx(SHOP_RATIO / 0.001, abs=1e-6)  # 104.2%: overspent
    assert shop["allowed_seconds"] == pytest.approx(0.001 * T)  # 43m12s of full outage at the average rate
    assert shop["consumed_seconds"] == pytest.approx(SHOP_RATIO * T, abs=1e-3)  # 2700 s of outage at 50%
    assert search["consumed_ratio"] == pytest.approx(SEARCH_RATIO / 0.005, abs=1e-6)  # 27.8%


def test_burndown_starts_full_and_ends_at_the_consumption(report) -> None:  # type: ignore[no-untyped-def]
    data, _ = report
    points = _slo(data, "shop-api")["burndown"]
    assert points[0] == [month.START, 1.0]
    assert points[-1][0] == month.END
    assert points[-1][1] == pytest.approx(1 - SHOP_RATIO / 0.001, abs=1e-6)
    values = [v for _, v in points]
    assert values == sorted(values, reverse=True)  # never goes up
    # flat until the first outage (day 5, 10:00), then about two thirds spent after it (60 of 90 minutes)
    first, second = month.SHOP_OUTAGES[0][0], month.SHOP_OUTAGES[1][0]
    before = [v for t, v in points if t < first]
    after_first = [v for t, v in points if first + 7200 <= t < second]
    assert set(before) == {1.0}
    assert after_first[0] == pytest.approx(1 - (SHOP_RATIO / 0.001) * 60 / 90, abs=0.02)
    assert len(points) <= 11_000


def test_incidents_mttr_and_mtbf(report) -> None:  # type: ignore[no-untyped-def]
    data, _ = report
    shop = _slo(data, "shop-api")
    # three incidents: the flapping page (3 minutes apart) merges into 60 minutes; 25 minutes; 5 minutes.
    # the pending page, the firing ticket and another tool's page with the same labels are not incidents
    assert [i["seconds"] for i in shop["incident_intervals"]] == [3600, 1500, 300]
    assert shop["incident_intervals"][0]["start"] == "2026-10-06T10:02:00Z"
    assert shop["incidents"] == 3 and shop["incident_seconds"] == 5400
    assert shop["mttr_seconds"] == pytest.approx(1800)
    assert shop["mtbf_seconds"] == pytest.approx((T - 5400) / 3)
    search = _slo(data, "search-api")
    assert search["incidents"] == 1 and search["mttr_seconds"] == pytest.approx(2 * 3600 - 180)
    services = {s["name"]: s for s in data["services"]}
    assert (services["shop-api"]["incidents"], services["shop-api"]["incident_seconds"]) == (3, 5400)
    assert services["shop-api"]["mttr_seconds"] == pytest.approx(1800)
    assert services["shop-api"]["mtbf_seconds"] == pytest.approx((T - 5400) / 3)
    assert services["search-api"]["incidents"] == 1
    assert services["search-api"]["mttr_seconds"] == pytest.approx(7020)  # 2 hours less the 3 minutes before it paged
    assert services["search-api"]["mtbf_seconds"] == pytest.approx(T - 7020)
    assert services["new-api"]["incidents"] == 0
    assert services["new-api"]["mttr_seconds"] is None and services["new-api"]["mtbf_seconds"] is None
    teams = {t["name"]: t for t in data["teams"]}
    assert teams["payments"]["incidents"] == 3 and teams["payments"]["mttr_seconds"] == pytest.approx(1800)
    assert teams["discovery"]["incidents"] == 1
    assert teams["discovery"]["mttr_seconds"] == pytest.approx(2 * 3600 - 180)
    overall = data["overall"]
    assert overall["incidents"] == 4
    assert overall["mtbf_seconds"] == pytest.approx((T - 5400 - 7020) / 4)


def test_change_failure_rate_where_deploys_are_known(report) -> None:  # type: ignore[no-untyped-def]
    data, out = report
    services = {s["name"]: s for s in data["services"]}
    # the deploy 10 minutes before the first page failed; the one on day 10 did not
    assert services["shop-api"]["change_failure"] == {"deploys": 2, "failed": 1, "rate": 0.5}
    assert services["search-api"]["change_failure"] is None
    assert "no series with service=\"search-api\"" in services["search-api"]["change_failure_note"]
    # overall, the rate covers shop-api alone and says that two services' deploys are unknown
    overall = data["overall"]
    assert overall["change_failure"] == {"deploys": 2, "failed": 1, "rate": 0.5}
    assert overall["services_without_deploys"] == 2
    assert overall["change_failure_note"] == "from 1 of 3 services; 2 without deploy data are left out"
    teams = {t["name"]: t for t in data["teams"]}
    assert teams["discovery"]["change_failure"] is None
    assert teams["discovery"]["change_failure_note"] == "unknown: no deploys known for any of the 2 service(s)"
    assert teams["payments"]["change_failure_note"] == "from all 1 services"
    md = (out / "report.md").read_text()
    # MTTR (3600 + 1500 + 300 + 7020) / 4 = 51m45s; MTBF (T - 12,420) / 4 = 7d11h8m15s
    assert "| overall | 3 | 1 | 1 | 99.861% | 4 | 51m45s | 7d11h8m | 50% (1/2), 2 services without deploy data |" in md


def test_the_deploy_series_can_be_named_in_the_stack_config(month_prometheus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prom, specs = month_prometheus
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.prod.yaml").write_text("config:\n  reliability:environment: prod\n"
                                              "  reliability:deployEvents: deploys_total\n")
    out = tmp_path / "out"
    code = main(["report", "--prometheus", prom.url, "--from", "2026-10-01", "--to", "2026-10-31",
                 "--specs", str(specs), "--out", str(out), "--env", "prod", "--stacks-dir", str(stacks)])
    assert code == 0
    services = {s["name"]: s for s in json.loads((out / "report.json").read_text())["services"]}
    assert services["shop-api"]["change_failure"] == {"deploys": 2, "failed": 1, "rate": 0.5}


def test_a_service_without_data_is_unknown_not_healthy(report) -> None:  # type: ignore[no-untyped-def]
    data, _ = report
    new = _slo(data, "new-api")
    assert new["attainment"] is None and new["met"] is None
    assert data["slos"][0]["service"] == "search-api"  # least attainment first (99.861% < 99.896%); no data last
    assert data["slos"][-1]["service"] == "new-api"
    assert data["overall"]["slos_without_data"] == 1 and data["overall"]["slos_missed"] == 1


def test_markdown_and_html_say_the_same(report) -> None:  # type: ignore[no-untyped-def]
    _, out = report
    md = (out / "report.md").read_text()
    assert "| shop-api | availability | 99.900% | 99.896% | **no** | 104.2% |" in md
    # every SLO in one table, least attainment first (99.861% < 99.896%), the one without data last
    every = md.split("### All SLOs, least attainment first", 1)[1].split("\n\n## ", 1)[0]
    assert [line.split(" | ")[:2] for line in every.splitlines() if " | availability | " in line] == [
        ["| discovery", "search-api"], ["| payments", "shop-api"], ["| discovery", "new-api"]]
    services = md.split("## Services", 1)[1].split("\n\n## ", 1)[0]
    assert [line.split(" | ")[0] for line in services.splitlines()[4:]] == ["| search-api", "| shop-api", "| new-api"]
    html = (out / "report.html").read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    assert "<script" not in html and html.count("<svg") == 3 + 3  # 3 attainment plots, 3 burn-downs
    every = html.split("<h3>All SLOs, least attainment first</h3>", 1)[1].split("</table>", 1)[0]
    assert [every.index(f"<td>{s}</td>") for s in ("search-api", "shop-api", "new-api")] == sorted(
        every.index(f"<td>{s}</td>") for s in ("search-api", "shop-api", "new-api"))
    assert "<li>shop-api / availability: 2026-10-06T10:02:00Z to 2026-10-06T11:02:00Z (1h)</li>" in html


def test_report_html_renders_in_a_headless_browser(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Debian's chromium, with every host name unresolvable: the page needs nothing from the network."""
    import subprocess

    from ...conftest import tool
    from . import png

    _, out = report
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [tool("chromium"), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         '--host-resolver-rules=MAP * ~NOTFOUND', "--enable-logging=stderr", "--v=0",
         "--window-size=1200,2400", f"--screenshot={shot}", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "Page load failed" not in log and "CONSOLE" not in log and "net::ERR" not in log, log
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "report.png").write_bytes(shot.read_bytes())  # kept for people to look at (CI uploads it)
    colours = png.pixels(shot.read_bytes())
    # the plots are drawn: red bars and burn-down of the missed SLO, green of the met one, incidents shaded
    assert colours[(0xC0, 0x39, 0x2B)] > 500, colours.most_common(8)
    assert colours[(0x1E, 0x84, 0x49)] > 500, colours.most_common(8)
