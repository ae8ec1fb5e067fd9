"""The `loadtest`, `gamedays` and `canary` keys: one field broken at a time, the exact message asserted.

Line numbers were counted by hand in the fixture below (the SLOs take lines 1-19).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.slo import cron
from reliability.slo.load import load

from .helpers import spec_header, spec_problems, with_line

GOOD = spec_header("shop-api") + """\
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
  - name: latency
    objective: 99.5
    sli:
      latency:
        histogram: 'http_request_duration_seconds{job="shop"}'
        threshold: 300ms
loadtest:
  target: http://shop-api.shop.svc:8080/api/orders
  rate: 50
  duration: 5m
  schedule: "0 3 * * 1"
  environments: [dev, staging]
gamedays:
  - name: pod-kill
    chaos: {kind: PodChaos, spec: {action: pod-kill, mode: one, selector: {namespaces: [shop], labelSelectors: {app: shop-api}}}}
    duration: 10m
    schedule: "0 10 * * 3"
    abort: {slo: availability, burn_rate: 6}
    environments: [staging]
canary:
  slos: [availability, latency]
"""


def edit(line: int, text: str) -> str:
    """The good fixture with one line (1-based) replaced."""
    return with_line(GOOD, line, text)


def add_after(line: int, text: str) -> str:
    """The good fixture with `text` inserted after one line (1-based): the lines below move down."""
    return edit(line, GOOD.split("\n")[line - 1] + "\n" + text)


# A service whose only SLO is raw: no SLO a canary can be judged by unless one is named.
RAW_ONLY = spec_header("shop-api") + """\
  - name: availability
    objective: 99.9
    sli:
      raw:
        error_ratio: 'sum(rate(http_requests_total{code=~"5.."}[{{window}}])) / sum(rate(http_requests_total[{{window}}]))'
canary: {}
"""
# A ratio SLI that reads an hour ago: the canary's pods of the present are not in it.
OFFSET = spec_header("shop-api") + """\
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'sum(rate(http_requests_total{code=~"5.."}[{{window}}] offset 1h))'
        total: 'sum(rate(http_requests_total[{{window}}]))'
canary:
  slos: [availability]
"""


def chaos(spec: str) -> str:
    return edit(27, f"    chaos: {{kind: PodChaos, spec: {spec}}}")


CASES = {
    "target not a URL": (edit(20, "  target: checkout-api:8080"), [
        "F:20: -: loadtest.target: 'checkout-api:8080' is not allowed here: use an http:// or https:// URL",
    ]),
    "target without host": (edit(20, "  target: http:///api"), [
        "F:20: -: loadtest.target: 'http:///api' is not an http:// or https:// URL with a host, "
        "e.g. http://checkout-api.shop.svc:8080/api/orders",
    ]),
    "target missing": (edit(20, "  method: GET"), [
        "F:19: -: loadtest.target: missing required field 'target'",
    ]),
    "method": (add_after(20, "  method: FETCH"), [
        "F:21: -: loadtest.method: must be one of 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', "
        "got the string 'FETCH'",
    ]),
    "duration": (edit(22, "  duration: 5 minutes"), [
        "F:22: -: loadtest.duration: '5 minutes' is not allowed here: use a duration such as 5m, 1h, 7d or 30d",
    ]),
    "rate 0": (edit(21, "  rate: 0"), [
        "F:21: -: loadtest.rate: must be at least 1, got 0",
    ]),
    "rate too high": (edit(21, "  rate: 1000000"), [
        "F:21: -: loadtest.rate: must be at most 100000, got 1000000",
    ]),
    "rate not a number": (edit(21, "  rate: fast"), [
        "F:21: -: loadtest.rate: expected a whole number, got the string 'fast'",
    ]),
    "cron that does not parse": (edit(23, '  schedule: "0 25 * * 1"'), [
        "F:23: -: loadtest.schedule: invalid cron '0 25 * * 1': hour: 25 is outside 0-23",
    ]),
    "cron with four fields": (edit(23, '  schedule: "0 3 * *"'), [
        "F:23: -: loadtest.schedule: invalid cron '0 3 * *': expected 5 fields (minute hour day-of-month month "
        "day-of-week), got 4",
    ]),
    "@every": (edit(23, '  schedule: "@every 1h"'), [
        "F:23: -: loadtest.schedule: invalid cron '@every 1h': @every is not supported (Chaos Mesh mis-schedules "
        "it, chaos-mesh#4624; CronJobs do not know it): write five fields, e.g. '*/30 * * * *'",
    ]),
    "load test longer than its interval": (edit(23, '  schedule: "*/2 * * * *"'), [
        "F:23: -: loadtest.schedule: the load test lasts 5m but '*/2 * * * *' starts one every 2m: runs would "
        "overlap (and the next start is skipped); shorten the duration or run less often",
    ]),
    "environment name": (edit(24, "  environments: [Dev]"), [
        "F:24: -: loadtest.environments[0]: 'Dev' is not allowed here: use a stack name: lowercase letters, "
        "digits and '-', starting with a letter",
    ]),
    "environments empty": (edit(24, "  environments: []"), [
        "F:24: -: loadtest.environments: must not be empty: list the stacks it runs in, e.g. [staging], or leave "
        "the key out (every environment but prod)",
    ]),
    "game day name": (edit(26, "  - name: Pod_Kill"), [
        "F:26: -: gamedays[0].name: 'Pod_Kill' is not allowed here: use lowercase letters, digits, '.', '_' or "
        "'-', starting and ending with a letter or digit, at most 63 characters",
    ]),
    "game day name twice": (add_after(31, "  - name: pod-kill\n    chaos: {kind: PodChaos, spec: {action: pod-kill, "
                                          "mode: one, selector: {namespaces: [shop]}}}\n    duration: 1m"), [
        "F:32: -: gamedays[1].name: duplicate game day name 'pod-kill' (first at line 26): give each game day its "
        "own name; it names the chaos experiment and its runbook",
    ]),
    "game day without chaos": (edit(27, "    description: kill one pod"), [
        "F:26: -: gamedays[0].chaos: missing required field 'chaos'",
    ]),
    "game day duration": (edit(28, "    duration: ten minutes"), [
        "F:28: -: gamedays[0].duration: 'ten minutes' is not allowed here: use a duration such as 5m, 1h, 7d or "
        "30d",
    ]),
    "game day environments not a list": (edit(31, "    environments: staging"), [
        "F:31: -: gamedays[0].environments: expected a list, got the string 'staging'",
    ]),
    "game day environment name": (edit(31, "    environments: [Staging]"), [
        "F:31: -: gamedays[0].environments[0]: 'Staging' is not allowed here: use a stack name: lowercase "
        "letters, digits and '-', starting with a letter",
    ]),
    "game day description": (add_after(31, "    description: [kill, one, pod]"), [
        "F:32: -: gamedays[0].description: expected a string, got a list",
    ]),
    "chaos kind unknown": (edit(27, "    chaos: {kind: PodChoas, spec: {}}"), [
        "F:27: -: gamedays[0].chaos.kind: must be one of 'AWSChaos', 'AzureChaos', 'BlockChaos', 'DNSChaos', "
        "'GCPChaos', 'HTTPChaos', 'IOChaos', 'JVMChaos', 'KernelChaos', 'NetworkChaos', 'PhysicalMachineChaos', "
        "'PodChaos', 'StressChaos', 'TimeChaos', got the string 'PodChoas'",
    ]),
    "chaos spec against the CRD: enum": (
        chaos("{action: pod-kil, mode: one, selector: {namespaces: [shop]}}"), [
            "F:27: -: gamedays[0].chaos.spec.action: must be one of 'pod-kill', 'pod-failure', 'container-kill', "
            "got the string 'pod-kil'",
        ]),
    "chaos spec against the CRD: required": (chaos("{action: pod-kill, selector: {namespaces: [shop]}}"), [
        "F:27: -: gamedays[0].chaos.spec.mode: missing required field 'mode'",
    ]),
    "chaos spec against the CRD: type": (
        chaos("{action: pod-kill, mode: one, selector: {namespaces: shop}}"), [
            "F:27: -: gamedays[0].chaos.spec.selector.namespaces: expected a list, got the string 'shop'",
        ]),
    "chaos without target namespaces": (chaos("{action: pod-kill, mode: one, selector: {labelSelectors: {a: b}}}"), [
        "F:27: -: gamedays[0].chaos.spec.selector.namespaces: name the target namespaces: without them Chaos "
        "Mesh selects the experiment's own namespace",
    ]),
    "chaos in kube-system": (chaos("{action: pod-kill, mode: one, selector: {namespaces: [kube-system]}}"), [
        "F:27: -: gamedays[0].chaos.spec.selector.namespaces[0]: chaos in 'kube-system' is refused: it would "
        "break the platform that runs and observes the experiment (kube-system, kube-public, kube-node-lease, "
        "chaos-mesh, monitoring are off limits)",
    ]),
    "game day longer than its interval": (edit(29, '    schedule: "*/5 * * * *"'), [
        "F:29: -: gamedays[0].schedule: the game day lasts 10m but '*/5 * * * *' starts one every 5m: runs would "
        "overlap (and the next start is skipped); shorten the duration or run less often",
    ]),
    "abort on an unknown SLO": (edit(30, "    abort: {slo: availabilty, burn_rate: 6}"), [
        "F:30: -: gamedays[0].abort.slo: no SLO named 'availabilty' in this service (its SLOs: availability, "
        "latency)",
    ]),
    "abort burn rate 0": (edit(30, "    abort: {slo: availability, burn_rate: 0}"), [
        "F:30: -: gamedays[0].abort.burn_rate: must be greater than 0, got 0",
    ]),
    "canary on an unknown SLO": (edit(33, "  slos: [availability, latncy]"), [
        "F:33: -: canary.slos[1]: no SLO named 'latncy' in this service (its SLOs: availability, latency)",
    ]),
    "canary namespace": (add_after(33, "  namespace: Shop"), [
        "F:34: -: canary.namespace: 'Shop' is not allowed here: use an RFC 1123 label: lowercase letters, digits "
        "and '-', starting and ending with a letter or digit",
    ]),
    "canary with no SLO to judge it": (RAW_ONLY, [
        "F:12: -: canary: no ratio or latency SLO to judge a canary by, and a raw SLI judges one only when named "
        "(this service's SLOs: availability): list them in canary.slos, e.g. slos: [availability], or remove "
        "canary",
    ]),
    "canary on an SLI that reads another time": (OFFSET, [
        "F:14: -: canary.slos[0]: SLO 'availability' cannot judge a canary: "
        "http_requests_total{code=~\"5..\"} offset 1h reads another time (offset or @): it cannot judge the "
        "present; leave it out of canary.slos (list the SLOs that judge the canary) or drop the offset or @ "
        "from its SLI",
    ]),
    "canary field typo": (edit(33, "  slo: [availability]"), [
        "F:33: -: canary.slo: unknown field 'slo' (did you mean 'slos'?)",
    ]),
}


def test_good_fixture_is_valid(tmp_path: Path) -> None:
    errors, warnings = spec_problems(tmp_path, GOOD)
    assert errors == [] and warnings == []


@pytest.mark.parametrize("case", list(CASES))
def test_one_broken_field(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    assert spec_problems(tmp_path, text)[0] == expected


def test_a_chaos_spec_is_checked_against_the_kind_it_names(tmp_path: Path) -> None:
    """NetworkChaos has `delay`; PodChaos has no such field."""
    text = edit(27, "    chaos: {kind: NetworkChaos, spec: {action: delay, mode: all, delay: {latency: 2s}, "
                    "selector: {namespaces: [shop]}}}")
    assert spec_problems(tmp_path, text)[0] == []
    text = chaos("{action: pod-kill, mode: one, selector: {namespaces: [shop]}, delay: {latency: 2s}}")
    assert spec_problems(tmp_path, text)[0] == [
        "F:27: -: gamedays[0].chaos.spec.delay: unknown field 'delay' (known fields: action, containerNames, "
        "duration, gracePeriod, mode, remoteCluster, selector, value)",
    ]


def test_an_unknown_chaos_field_is_an_error_not_pruned(tmp_path: Path) -> None:
    """The API server would drop `mod` silently (structural schema) and the chaos would run in its default mode."""
    assert spec_problems(tmp_path, chaos("{action: pod-kill, mod: one, selector: {namespaces: [shop]}}"))[0] == [
        "F:27: -: gamedays[0].chaos.spec.mod: unknown field 'mod' (did you mean 'mode'?)",
        "F:27: -: gamedays[0].chaos.spec.mode: missing required field 'mode'",
    ]


def test_environments_select_where_tests_are_compiled(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    by_env = {env: load([str(spec)], env=env).services[0] for env in ("dev", "staging", "prod")}
    assert by_env["dev"].loadtest is not None and by_env["dev"].gamedays == ()
    assert by_env["staging"].loadtest is not None and len(by_env["staging"].gamedays) == 1
    assert by_env["prod"].loadtest is None and by_env["prod"].gamedays == ()
    unlisted = GOOD.replace("  environments: [dev, staging]\n", "")
    spec.write_text(unlisted)
    assert load([str(spec)], env="prod").services[0].loadtest is None, "never prod unless listed"
    assert load([str(spec)], env="local").services[0].loadtest is not None


def test_a_raw_slo_judges_a_canary_when_named(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(RAW_ONLY.replace("canary: {}", "canary:\n  slos: [availability]"))
    result = load([str(spec)])
    assert not result.problems and result.services[0].canary.slos == ("availability",)


def test_canary_defaults_to_every_ratio_and_latency_slo(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD.replace("canary:\n  slos: [availability, latency]\n", "canary: {}\n"))
    service = load([str(spec)]).services[0]
    assert service.canary is not None and service.canary.slos == ("availability", "latency")


@pytest.mark.parametrize(("text", "interval"), [
    ("0 3 * * 1", "7d"),
    ("*/15 * * * *", "15m"),
    ("0 9-17 * * 1-5", "1h"),
    ("30 23 * * 5,6", "1d"),       # Friday 23:30 to Saturday 23:30
    ("0 0 1 * *", "28d"),          # February
    ("0 0 29 2 *", "1461d"),       # leap days only: four years apart
    ("@daily", "1d"),
    ("0 0 1,15 * mon", "1d"),      # either day field matches (Vixie cron): a Monday the 14th, then the 15th
    ("0 12 * jan-mar sun", "7d"),
])
def test_cron_shortest_interval(text: str, interval: str) -> None:
    from reliability.durations import Duration as D

    assert cron.parse(text).shortest_interval() == D.parse(interval)


def test_a_cron_that_never_runs_is_refused() -> None:
    with pytest.raises(cron.CronError, match="never runs"):
        cron.parse("0 0 31 2 *").shortest_interval()
