"""The dashboard builder: what Grafana needs from every dashboard, whatever the generator asks for."""

from __future__ import annotations

import json

import pytest

from reliability.slo.grafana import (
    GRID_COLUMNS,
    SCHEMA_VERSION,
    Dashboard,
    DashboardError,
    DataSource,
    Layout,
    Target,
    check_uid,
    even_widths,
    row,
    stat,
    targets_of,
    timeseries,
)
from reliability.yamlio import dump_json

PROM = DataSource("prometheus", "prometheus")


def panel(title: str, width: int, height: int = 4):
    return stat(title, PROM, Target("vector(1)", instant=True), width=width, height=height)


def test_layout_places_left_to_right_and_wraps_before_the_edge() -> None:
    layout = Layout()
    layout.add(row("first"))
    for title, width in (("a", 18), ("b", 24), ("c", 6), ("d", 6)):
        layout.add(panel(title, width, height=3 if title != "c" else 5))
    layout.add(row("second"))
    placed = {p.panel.title: (p.id, p.x, p.y, p.panel.width) for p in layout.placed}
    assert placed == {
        "first": (1, 0, 0, 24),
        "a": (2, 0, 1, 18),
        "b": (3, 0, 4, 24),  # 18 + 24 would overflow: a new line, never x=18 (the SDK's bug)
        "c": (4, 0, 7, 6),
        "d": (5, 6, 7, 6),
        "second": (6, 0, 12, 24),  # below the tallest panel of the line
    }
    for p in layout.placed:
        assert p.x + p.panel.width <= GRID_COLUMNS


def test_even_widths_fill_the_grid() -> None:
    assert even_widths(4) == [6, 6, 6, 6]
    assert even_widths(5) == [5, 5, 5, 5, 4]
    assert sum(even_widths(7)) == GRID_COLUMNS


@pytest.mark.parametrize(("uid", "message"), [
    ("x" * 41, "dashboard uid 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is 41 characters; Grafana allows 40"),
    ("Checkout", "dashboard uid 'Checkout' must be lowercase letters, digits and '-', starting and ending with a letter or digit"),
    ("slo-", "dashboard uid 'slo-' must be lowercase letters, digits and '-', starting and ending with a letter or digit"),
    ("", "dashboard uid '' must be lowercase letters, digits and '-', starting and ending with a letter or digit"),
])
def test_bad_uids_are_rejected(uid: str, message: str) -> None:
    with pytest.raises(DashboardError) as info:
        check_uid(uid)
    assert str(info.value) == message


def test_panels_reject_impossible_sizes_and_queries_without_datasource() -> None:
    with pytest.raises(DashboardError, match=r"width 25 must be 1\.\.24"):
        panel("wide", 25)
    with pytest.raises(DashboardError, match="has queries but no datasource"):
        timeseries("t", None, [Target("up")], width=6, height=4)  # type: ignore[arg-type]


def test_dashboard_json_has_fixed_schema_ids_grid_and_datasource_uids() -> None:
    layout = Layout()
    layout.add(row("r"))
    layout.add(timeseries("t", PROM, [Target("up", "a"), Target("up * 2", "b")], width=12, height=8))
    model = Dashboard("some-uid", "Title", tuple(layout.placed)).to_dict()
    assert model["schemaVersion"] == SCHEMA_VERSION == 41
    assert model["uid"] == "some-uid" and model["id"] is None and model["editable"] is False
    assert [p["id"] for p in model["panels"]] == [1, 2]
    assert model["panels"][1]["gridPos"] == {"h": 8, "w": 12, "x": 0, "y": 1}
    [(_, first), (_, second)] = targets_of(model)
    assert (first["refId"], second["refId"]) == ("A", "B")
    assert first["datasource"] == model["panels"][1]["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    assert json.loads(dump_json(model)) == model


def test_the_uid_is_given_never_taken_from_the_title() -> None:
    one = Dashboard("slo-checkout-api", "checkout-api SLOs", ()).to_dict()
    renamed = Dashboard("slo-checkout-api", "Checkout: service level objectives", ()).to_dict()
    assert one["uid"] == renamed["uid"] == "slo-checkout-api"
    assert one["title"] != renamed["title"]


def test_json_is_deterministic_with_sorted_keys() -> None:
    layout = Layout()
    layout.add(panel("s", 6))
    text = dump_json(Dashboard("d", "D", tuple(layout.placed)).to_dict())
    assert text == dump_json(json.loads(text))
    keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('  "')]
    assert keys == sorted(keys)
