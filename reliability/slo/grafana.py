"""A small typed builder for Grafana dashboard JSON (the classic "v1" dashboard model).

Frozen dataclasses describe a dashboard (panels, targets, links, variables);
`Dashboard.to_dict()` turns it into the plain dict Grafana reads, and the
compiler writes it with sorted keys (`yamlio.dump_json`), so a recompile shows
no diff. What the builder guarantees, so the generators need not:

- a fixed `schemaVersion` (`SCHEMA_VERSION`), never the one of whatever
  library happens to be installed;
- explicit panel `id`s (1, 2, ... in layout order) and explicit `gridPos` on
  the 24-column grid, placed left to right by `Layout`; a panel never runs
  past the right edge;
- datasource references by uid on every panel and target;
- a `uid` that is given, never derived from the title, and checked against
  Grafana's limits (at most 40 characters; we emit lowercase `[a-z0-9-]` so it
  is also a valid Kubernetes name, which Grafana plans to require).

Why not grafana-foundation-sdk, Grafana's own dashboards-as-code library on
PyPI: it is labelled Alpha, and every Grafana minor is a separate release with
its own PEP 440 epoch (`EPOCH!GRAFANA_VERSION`), the Grafana 10.1 build carrying
the highest, so an unpinned install gets the 10.1 model (the build in this
project's venv, `1769699998!10.1.0`, emits `schemaVersion` 36 and the long
deprecated `"style": "dark"`). The schema version is fixed by the wheel with no
builder method to change it; panels get no `id` unless each is set by hand; its
auto-layout checks for overflow only after placing a panel, so a 24-wide panel
after an 18-wide one lands at x=18, past the grid's edge; and it emits keys we
would have to strip for readable golden files (`auto`, `auto_count`, `auto_min`
and an `id` on every variable). We need five panel types and a few options each:
a few hundred lines of typed code are cheaper to own than pinning and patching
an Alpha package.

`SCHEMA_VERSION` is 41: Grafana 11.6 and later read it as is, and the two
later migrations touch only options we never emit (v42 copies
`custom.hideFrom.viz` to tooltips, v43 rewrites `formatTime` transformations;
grafana/grafana apps/dashboard/pkg/migration/schemaversion/v42.go and v43.go),
so Grafana 13 shows exactly what we wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 41
GRID_COLUMNS = 24
UID_MAX_LENGTH = 40
_UID = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class DashboardError(ValueError):
    """A dashboard that Grafana would reject or show wrongly."""


def check_uid(uid: str) -> str:
    if len(uid) > UID_MAX_LENGTH:
        raise DashboardError(f"dashboard uid '{uid}' is {len(uid)} characters; Grafana allows {UID_MAX_LENGTH}")
    if not _UID.match(uid):
        raise DashboardError(f"dashboard uid '{uid}' must be lowercase letters, digits and '-', "
                             "starting and ending with a letter or digit")
    return uid


@dataclass(frozen=True)
class DataSource:
    type: str
    uid: str

    def ref(self) -> dict[str, str]:
        return {"type": self.type, "uid": self.uid}


@dataclass(frozen=True)
class Target:
    """One Prometheus query of a panel; `instant` queries feed stats and tables."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False  # format "table": one row per series, labels as columns

    def to_dict(self, ref_id: str, datasource: DataSource) -> dict[str, Any]:
        return {
            "datasource": datasource.ref(),
            "editorMode": "code",
            "expr": self.expr,
            "format": "table" if self.table else "time_series",
            "instant": self.instant,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "refId": ref_id,
        }


@dataclass(frozen=True)
class Link:
    """A URL shown on a panel (panel link) or in the dashboard's top bar (dashboard link)."""

    title: str
    url: str
    tooltip: str = ""
    new_tab: bool = True
    keep_time: bool = False

    def panel_link(self) -> dict[str, Any]:
        return {"targetBlank": self.new_tab, "title": self.title, "url": self.url}

    def dashboard_link(self) -> dict[str, Any]:
        return {
            "asDropdown": False,
            "icon": "external link",
            "includeVars": False,
            "keepTime": self.keep_time,
            "tags": [],
            "targetBlank": self.new_tab,
            "title": self.title,
            "tooltip": self.tooltip,
            "type": "link",
            "url": self.url,
        }


@dataclass(frozen=True)
class TaggedDashboards:
    """A top-bar drop-down of every dashboard carrying all of `tags`."""

    title: str
    tags: tuple[str, ...]

    def dashboard_link(self) -> dict[str, Any]:
        return {
            "asDropdown": True,
            "icon": "external link",
            "includeVars": False,
            "keepTime": True,
            "tags": list(self.tags),
            "targetBlank": False,
            "title": self.title,
            "tooltip": "",
            "type": "dashboards",
            "url": "",
        }


@dataclass(frozen=True)
class Step:
    """A threshold: from `value` up (None = from minus infinity), shown in `color`."""

    value: float | None
    color: str


@dataclass(frozen=True)
class ValueText:
    """A value mapping: show `text` in `color` for the exact value `value`."""

    value: int
    text: str
    color: str


def thresholds(steps: Sequence[Step]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": s.color, "value": s.value} for s in steps]}


def value_mappings(values: Sequence[ValueText]) -> list[dict[str, Any]]:
    if not values:
        return []
    options = {str(v.value): {"color": v.color, "index": i, "text": v.text} for i, v in enumerate(values)}
    return [{"options": options, "type": "value"}]


@dataclass(frozen=True)
class Override:
    """Field config for the fields one matcher selects: `byName` (display name) or `byFrameRefID`."""

    matcher: str
    match: str
    properties: tuple[tuple[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "matcher": {"id": self.matcher, "options": self.match},
            "properties": [{"id": key, "value": value} for key, value in self.properties],
        }


@dataclass(frozen=True)
class Panel:
    """Any panel; build them with `timeseries`, `stat`, `table`, `bargauge` and `row`."""

    type: str
    title: str
    width: int
    height: int
    datasource: DataSource | None = None
    targets: tuple[Target, ...] = ()
    description: str = ""
    unit: str = ""
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    color_mode: str = "thresholds"
    steps: tuple[Step, ...] = (Step(None, "green"),)
    mappings: tuple[ValueText, ...] = ()
    links: tuple[Link, ...] = ()
    data_links: tuple[Link, ...] = ()
    custom: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    transformations: tuple[Mapping[str, Any], ...] = ()
    repeat: str = ""  # rows only: repeat this row (and the panels under it) per value of a variable

    def __post_init__(self) -> None:
        if not 1 <= self.width <= GRID_COLUMNS or self.height < 1:
            raise DashboardError(f"panel '{self.title}': width {self.width} must be 1..{GRID_COLUMNS}, "
                                 f"height {self.height} at least 1")
        if len(self.targets) > len(_REF_IDS):
            raise DashboardError(f"panel '{self.title}': at most {len(_REF_IDS)} queries")
        if self.targets and self.datasource is None:
            raise DashboardError(f"panel '{self.title}' has queries but no datasource")

    def to_dict(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "id": panel_id,
            "title": self.title,
            "type": self.type,
        }
        if self.type == "row":
            out |= {"collapsed": False, "panels": []}
            if self.repeat:
                out["repeat"] = self.repeat
            return out
        defaults: dict[str, Any] = {
            "color": {"mode": self.color_mode},
            "mappings": value_mappings(self.mappings),
            "thresholds": thresholds(self.steps),
        }
        for key, value in (("unit", self.unit), ("decimals", self.decimals), ("min", self.min), ("max", self.max)):
            if value is not None and value != "":
                defaults[key] = value
        if self.custom:
            defaults["custom"] = dict(self.custom)
        if self.data_links:
            defaults["links"] = [link.panel_link() for link in self.data_links]
        out |= {
            "description": self.description,
            "fieldConfig": {"defaults": defaults, "overrides": [o.to_dict() for o in self.overrides]},
            "links": [link.panel_link() for link in self.links],
            "options": dict(self.options),
            "targets": [t.to_dict(_REF_IDS[i], self.datasource) for i, t in enumerate(self.targets)]
            if self.datasource else [],
        }
        if self.datasource is not None:
            out["datasource"] = self.datasource.ref()
        if self.transformations:
            out["transformations"] = [dict(t) for t in self.transformations]
        return out


# ------------------------------------------------------------------ panel constructors

_REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}


def timeseries(title: str, datasource: DataSource, targets: Sequence[Target], *, width: int, height: int,
               description: str = "", unit: str = "", decimals: int | None = None, min: float | None = None,
               max: float | None = None, steps: Sequence[Step] = (Step(None, "green"),),
               threshold_lines: bool = False, overrides: Sequence[Override] = (), links: Sequence[Link] = ()
               ) -> Panel:
    """A line chart; with `threshold_lines`, each threshold step is drawn as a dashed reference line."""
    custom = {
        "drawStyle": "line",
        "fillOpacity": 0,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "thresholdsStyle": {"mode": "dashed" if threshold_lines else "off"},
    }
    options = {
        "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return Panel("timeseries", title, width, height, datasource, tuple(targets), description, unit, decimals,
                 min, max, "palette-classic", tuple(steps), (), tuple(links), (), custom, options, tuple(overrides))


def stat(title: str, datasource: DataSource, target: Target, *, width: int, height: int, description: str = "",
         unit: str = "", decimals: int | None = None, steps: Sequence[Step] = (Step(None, "green"),),
         mappings: Sequence[ValueText] = (), sparkline: bool = False, links: Sequence[Link] = ()) -> Panel:
    """One number (the last value of one query), coloured by thresholds or value mappings."""
    options = {
        "colorMode": "background",
        "graphMode": "area" if sparkline else "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": _REDUCE_LAST,
        "textMode": "auto",
    }
    return Panel("stat", title, width, height, datasource, (target,), description, unit, decimals,
                 steps=tuple(steps), mappings=tuple(mappings), links=tuple(links), options=options)


def bargauge(title: str, datasource: DataSource, target: Target, *, width: int, height: int,
             description: str = "", unit: str = "", decimals: int | None = None, min: float | None = None,
             max: float | None = None, steps: Sequence[Step] = (Step(None, "green"),)) -> Panel:
    """One horizontal bar per series (the last value), coloured by thresholds."""
    options = {
        "displayMode": "basic",
        "orientation": "horizontal",
        "reduceOptions": _REDUCE_LAST,
        "showUnfilled": True,
        "valueMode": "color",
    }
    return Panel("bargauge", title, width, height, datasource, (target,), description, unit, decimals, min, max,
                 steps=tuple(steps), options=options)


def table(title: str, datasource: DataSource, targets: Sequence[Target], *, width: int, height: int,
          description: str = "", sort_by: str = "", descending: bool = False, overrides: Sequence[Override] = (),
          transformations: Sequence[Mapping[str, Any]] = ()) -> Panel:
    """A table users sort by clicking a column header; `sort_by` is the initial sort."""
    options: dict[str, Any] = {"cellHeight": "sm", "footer": {"show": False}, "showHeader": True}
    if sort_by:
        options["sortBy"] = [{"desc": descending, "displayName": sort_by}]
    custom = {"align": "auto", "cellOptions": {"type": "auto"}, "filterable": True}
    return Panel("table", title, width, height, datasource, tuple(targets), description, custom=custom,
                 options=options, overrides=tuple(overrides), transformations=tuple(transformations))


def row(title: str, repeat: str = "") -> Panel:
    """A full-width row header; the panels after it, up to the next row, belong to it."""
    return Panel("row", title, GRID_COLUMNS, 1, repeat=repeat)


# ------------------------------------------------------------------ layout


@dataclass(frozen=True)
class Placed:
    id: int
    x: int
    y: int
    panel: Panel


class Layout:
    """Places panels left to right on the 24-column grid, wrapping to a new line when one does not fit."""

    def __init__(self) -> None:
        self.placed: list[Placed] = []
        self._x = 0
        self._y = 0
        self._line_height = 0

    def newline(self) -> None:
        self._y += self._line_height
        self._x = 0
        self._line_height = 0

    def add(self, panel: Panel) -> Placed:
        if panel.type == "row" or self._x + panel.width > GRID_COLUMNS:
            self.newline()
        placed = Placed(len(self.placed) + 1, self._x, self._y, panel)
        self.placed.append(placed)
        self._x += panel.width
        self._line_height = max(self._line_height, panel.height)
        if panel.type == "row":
            self.newline()
        return placed

    def line(self, panels: Sequence[Panel]) -> None:
        """Panels side by side on a fresh line."""
        self.newline()
        for panel in panels:
            self.add(panel)
        self.newline()


def even_widths(count: int) -> list[int]:
    """`count` widths filling the 24 columns, the leftover columns going to the first panels."""
    base, extra = divmod(GRID_COLUMNS, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


# ------------------------------------------------------------------ variables and the dashboard


@dataclass(frozen=True)
class QueryVariable:
    """A drop-down filled from `label_values(<series>, <label>)`; multi-select with "All"."""

    name: str
    label: str
    datasource: DataSource
    series: str
    label_name: str

    @property
    def query(self) -> str:
        return f"label_values({self.series}, {self.label_name})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "datasource": self.datasource.ref(),
            "definition": self.query,
            "includeAll": True,
            "label": self.label,
            "multi": True,
            "name": self.name,
            "options": [],
            "query": {"qryType": 1, "query": self.query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2,  # on time range change: new teams appear without a reload
            "regex": "",
            "sort": 1,
            "type": "query",
        }


@dataclass(frozen=True)
class Annotation:
    """Marks on every time axis where a Prometheus query has samples (e.g. firing alerts)."""

    name: str
    datasource: DataSource
    expr: str
    title: str
    tags: tuple[str, ...] = ()
    color: str = "red"

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasource": self.datasource.ref(),
            "enable": True,
            "expr": self.expr,
            "iconColor": self.color,
            "name": self.name,
            "step": "60s",
            "tagKeys": ",".join(self.tags),
            "titleFormat": self.title,
            "useValueForTime": False,
        }


@dataclass(frozen=True)
class DatasourceVariable:
    """A datasource picker (`${name}` in panels): one dashboard for Thanos Query or a single Prometheus."""

    name: str
    label: str
    type: str
    default: str  # the uid selected until someone picks another

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": {"selected": True, "text": self.default, "value": self.default},
            "hide": 0,
            "includeAll": False,
            "label": self.label,
            "multi": False,
            "name": self.name,
            "options": [],
            "query": self.type,
            "refresh": 1,
            "regex": "",
            "type": "datasource",
        }


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    panels: tuple[Placed, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    links: tuple[Link | TaggedDashboards, ...] = ()
    variables: tuple[DatasourceVariable | QueryVariable, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    time_from: str = "now-24h"
    refresh: str = "1m"

    def to_dict(self) -> dict[str, Any]:
        check_uid(self.uid)
        ids = [p.id for p in self.panels]
        if len(set(ids)) != len(ids):
            raise DashboardError(f"dashboard '{self.uid}': panel ids repeat")
        return {
            "annotations": {"list": [a.to_dict() for a in self.annotations]},
            "description": self.description,
            "editable": False,  # generated: changes belong in the SLO spec, not in Grafana
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,  # shared crosshair
            "id": None,
            "links": [link.dashboard_link() for link in self.links],
            "panels": [p.panel.to_dict(p.id, p.x, p.y) for p in self.panels],
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "tags": list(self.tags),
            "templating": {"list": [v.to_dict() for v in self.variables]},
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "timezone": "",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
            "weekStart": "",
        }


def targets_of(model: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(panel, target) for every query of a dashboard dict, rows' nested panels included."""
    found: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    for panel in model.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            found.extend((inner, target) for target in inner.get("targets", []))
    return found
