"""Burn-rate window catalogs: which windows and factors alert for an SLO period.

Catalogs are data files (`windows/*.yaml`, each citing its source). Users add
their own with `--windows DIR`, in this format or in Sloth's `AlertWindows`
format; a user catalog replaces the built-in one for the same period.

A window either gives `budget_percent` (the share of the period's error budget
that a burn at this rate spends within the long window, as the Workbook states
it) or `burn_rate` directly. burn rate = budget_percent / 100 * period / long.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..durations import Duration
from ..problems import Location, Problems, join_path
from ..yamlio import YMap, line_at, load_documents

BUILTIN_DIR = Path(__file__).parent / "windows"
SEVERITIES = ("page", "ticket")
DEFAULT_NO_DATA_FOR = Duration.parse("10m")


@dataclass(frozen=True)
class BurnWindow:
    severity: str
    long: Duration
    short: Duration
    burn_rate: Decimal
    for_: Duration | None = None


@dataclass(frozen=True)
class WindowCatalog:
    period: Duration
    windows: tuple[BurnWindow, ...]
    source: str
    file: str
    no_data_for: Duration = DEFAULT_NO_DATA_FOR

    def by_severity(self, severity: str) -> tuple[BurnWindow, ...]:
        return tuple(w for w in self.windows if w.severity == severity)

    @property
    def base(self) -> Duration:
        """The shortest window: the rate every longer window is built from."""
        return min(w.short for w in self.windows)

    @property
    def alert_windows(self) -> tuple[Duration, ...]:
        return tuple(sorted({w.long for w in self.windows} | {w.short for w in self.windows}))


def _duration(value: Any, where: str, problems: Problems, loc: Location) -> Duration | None:
    if not isinstance(value, str):
        problems.add(loc, None, where, f"expected a duration like 5m or 1h, got {value!r}")
        return None
    try:
        return Duration.parse(value)
    except ValueError as exc:
        problems.add(loc, None, where, str(exc))
        return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _parse_windows(
    raw: dict[str, Any], period: Duration, file: str, root: Any, prefix: tuple[str | int, ...], problems: Problems
) -> list[BurnWindow]:
    windows: list[BurnWindow] = []
    for severity in SEVERITIES:
        entries = raw.get(severity)
        if entries is None:
            continue
        if isinstance(entries, dict):  # Sloth: {quick: {...}, slow: {...}}
            entries = [entries[k] for k in ("quick", "slow") if k in entries]
            keys: list[str | int] = [k for k in ("quick", "slow") if k in raw[severity]]
        else:
            keys = list(range(len(entries))) if isinstance(entries, list) else []
        if not isinstance(entries, list):
            where_line = Location(file, line_at(root, (*prefix, severity)))
            problems.add(where_line, None, severity, "expected a list of windows")
            continue
        for key, entry in zip(keys, entries, strict=False):
            path = (*prefix, severity, key)
            where = join_path(*(p for p in path))
            loc = Location(file, line_at(root, path))
            if not isinstance(entry, dict):
                problems.add(loc, None, where, "expected a mapping with long, short and budget_percent or burn_rate")
                continue
            long = _duration(entry.get("long", entry.get("longWindow")), f"{where}.long", problems, loc)
            short = _duration(entry.get("short", entry.get("shortWindow")), f"{where}.short", problems, loc)
            pct = entry.get("budget_percent", entry.get("errorBudgetPercent"))
            rate = entry.get("burn_rate")
            if (pct is None) == (rate is None):
                problems.add(loc, None, where, "give exactly one of budget_percent or burn_rate")
                continue
            number = _number(pct if pct is not None else rate)
            if number is None or number <= 0 or (pct is not None and number > 100):
                field = "budget_percent" if pct is not None else "burn_rate"
                limit = "between 0 (excluded) and 100" if pct is not None else "greater than 0"
                got = pct if pct is not None else rate
                problems.add(loc, None, f"{where}.{field}", f"must be a number {limit}, got {got!r}")
                continue
            for_ = None
            if entry.get("for") is not None:
                for_ = _duration(entry["for"], f"{where}.for", problems, loc)
            if long is None or short is None:
                continue
            if short >= long:
                problems.add(loc, None, where, f"short window {short} must be shorter than long window {long}")
                continue
            if long > period:
                problems.add(loc, None, where, f"long window {long} is longer than the period {period}")
                continue
            burn = number if rate is not None else number / 100 * Decimal(period.ms) / Decimal(long.ms)
            windows.append(BurnWindow(severity, long, short, burn, for_))
    return windows


def parse_catalog(data: Any, file: str, line: int, problems: Problems) -> WindowCatalog | None:
    """Read one catalog document (ours or Sloth's AlertWindows)."""
    loc = Location(file, line)
    if not isinstance(data, dict):
        problems.add(loc, None, None, "a window catalog must be a mapping")
        return None
    kind = data.get("kind")
    prefix: tuple[str, ...]
    if kind == "AlertWindows":  # Sloth: apiVersion sloth.slok.dev/v1, spec.sloPeriod, spec.page.quick...
        spec: dict[str, Any] = data["spec"] if isinstance(data.get("spec"), dict) else {}
        period_raw, prefix, source = spec.get("sloPeriod"), ("spec",), "Sloth AlertWindows"
        body = spec
    elif kind == "BurnRateWindows":
        period_raw, prefix, source = data.get("period"), (), str(data.get("source", ""))
        body = data
        if not source:
            problems.add(loc, None, "source", "cite where the windows and factors come from (a URL)")
    else:
        problems.add(loc, None, "kind", f"expected kind BurnRateWindows (or Sloth's AlertWindows), got {kind!r}")
        return None
    period = _duration(period_raw, join_path(*prefix, "period" if kind == "BurnRateWindows" else "sloPeriod"),
                       problems, Location(file, line_at(data, (*prefix, "period"))))
    if period is None:
        return None
    before = len(problems.errors)
    windows = _parse_windows(body, period, file, data, prefix, problems)
    if len(problems.errors) > before:
        return None
    if not windows:
        problems.add(loc, None, None, "a catalog needs at least one page or ticket window")
        return None
    no_data_for = DEFAULT_NO_DATA_FOR
    if isinstance(body, YMap) and body.get("no_data_for") is not None:
        where_line = Location(file, line_at(body, ("no_data_for",)))
        parsed = _duration(body["no_data_for"], "no_data_for", problems, where_line)
        if parsed is None:
            return None
        no_data_for = parsed
    return WindowCatalog(period, tuple(windows), source, file, no_data_for)


def load_catalogs(extra_dirs: list[str] | None, problems: Problems) -> dict[Duration, WindowCatalog]:
    """Built-in catalogs, then the user's (which replace a built-in for the same period)."""
    catalogs: dict[Duration, WindowCatalog] = {}
    sources: list[tuple[str, bool]] = [(str(p), True) for p in sorted(BUILTIN_DIR.glob("*.yaml"))]
    for extra in map(os.path.normpath, extra_dirs or []):  # `./w/` and `w` read the same
        if os.path.isdir(extra):
            names = sorted(n for n in os.listdir(extra) if n.endswith((".yaml", ".yml")))
            sources.extend((os.path.join(extra, n), False) for n in names)
        elif os.path.isfile(extra):
            sources.append((extra, False))
        else:
            problems.add(Location(extra, 1), None, None, "window catalog path does not exist")
    user_periods: dict[Duration, str] = {}
    for path, builtin in sources:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for doc in load_documents(text, path, problems):
            catalog = parse_catalog(doc.data, path, doc.line, problems)
            if catalog is None:
                continue
            if not builtin:
                if catalog.period in user_periods:
                    problems.add(Location(path, doc.line), None, "period",
                                 f"a catalog for {catalog.period} is already given in {user_periods[catalog.period]}")
                    continue
                user_periods[catalog.period] = path
            catalogs[catalog.period] = catalog
    return catalogs
