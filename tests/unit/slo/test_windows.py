"""Burn-rate window catalogs: the Workbook's numbers from data, user catalogs, bad catalogs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml

from reliability.durations import Duration
from reliability.problems import Problems
from reliability.slo.windows import load_catalogs

from ...conftest import reference


def burns(catalog) -> list[tuple[str, str, str, Decimal]]:  # type: ignore[no-untyped-def]
    return [(w.severity, str(w.long), str(w.short), w.burn_rate) for w in catalog.windows]


def test_builtin_catalogs_hold_the_workbook_factors() -> None:
    problems = Problems()
    catalogs = load_catalogs(None, problems)
    assert not problems
    assert sorted(str(p) for p in catalogs) == ["28d", "30d", "7d"]
    assert burns(catalogs[Duration.parse("30d")]) == [
        ("page", "1h", "5m", Decimal("14.4")), ("page", "6h", "30m", Decimal("6")),
        ("ticket", "1d", "2h", Decimal("3")), ("ticket", "3d", "6h", Decimal("1")),
    ]
    four_weeks = burns(catalogs[Duration.parse("28d")])
    assert [b[3] for b in four_weeks[:3]] == [Decimal("13.44"), Decimal("5.6"), Decimal("2.8")]
    assert abs(four_weeks[3][3] - Decimal(28) / Decimal(30)) < Decimal("1e-20")
    week = burns(catalogs[Duration.parse("7d")])
    assert [b[3] for b in week] == [Decimal("13.44"), Decimal("3.5"), Decimal("1.4"), Decimal("0.98")]
    for catalog in catalogs.values():
        assert catalog.source.startswith("https://")
        assert catalog.base == Duration.parse("5m")


def test_sloth_alertwindows_files_load_and_replace_the_builtin() -> None:
    windows = reference("sloth", "examples", "windows")
    problems = Problems()
    catalogs = load_catalogs([str(windows)], problems)
    assert not problems
    custom = catalogs[Duration.parse("30d")]
    assert custom.file.endswith("custom-30d.yaml")
    # errorBudgetPercent 1 over 30m in a 30d period: 0.01 * 720h / 0.5h = 14.4
    assert burns(custom)[0] == ("page", "30m", "2m", Decimal("14.4"))
    assert Duration.parse("7d") in catalogs


def test_bad_catalogs_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("""\
apiVersion: reliability-as-code/v1
kind: BurnRateWindows
period: 14d
page:
  - {long: 5m, short: 1h, budget_percent: 2}
  - {long: 1h, short: 5m, budget_percent: 2, burn_rate: 14}
ticket:
  - {long: 30d, short: 6h, budget_percent: 150}
""")
    problems = Problems()
    load_catalogs([str(tmp_path)], problems)
    messages = [f"{p.location.line}: {p.field}: {p.message}" for p in problems.errors]
    assert messages == [
        "1: source: cite where the windows and factors come from (a URL)",
        "5: page[0]: short window 1h must be shorter than long window 5m",
        "6: page[1]: give exactly one of budget_percent or burn_rate",
        "8: ticket[0].budget_percent: must be a number between 0 (excluded) and 100, got 150",
    ]


def test_a_catalog_with_seconds_gets_tests_on_a_seconds_clock(tmp_path: Path) -> None:
    """The end-to-end tests' catalog (the Workbook's windows / 60) has 5s and 30s windows."""
    from reliability.slo.compile import compile_paths, write_output
    from reliability.slo.promtool import run_checks

    from ...conftest import tool

    e2e = Path(__file__).resolve().parents[2] / "e2e"
    result, output = compile_paths([str(e2e / "specs")], windows=[str(e2e / "windows")])
    assert output is not None, result.problems
    catalog = result.catalogs[Duration.parse("12h")]
    assert burns(catalog) == [
        ("page", "1m", "5s", Decimal("14.4")), ("page", "6m", "30s", Decimal("6")),
        ("ticket", "24m", "2m", Decimal("3")), ("ticket", "1h12m", "6m", Decimal("1")),
    ]
    tests = yaml.safe_load(output.files["tests/synthetic-api.yaml"])
    assert tests["evaluation_interval"] == "5s"
    write_output(output.files, str(tmp_path / "out"))
    tool("promtool")
    ok, report = run_checks(str(tmp_path / "out"))
    assert ok, report
