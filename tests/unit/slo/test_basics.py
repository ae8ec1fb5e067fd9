"""Durations, decimals and the YAML reader/writer the compiler is built on."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from reliability.durations import Duration
from reliability.problems import Problems
from reliability.yamlio import dump, format_decimal, line_at, load_documents, nest


@pytest.mark.parametrize(("text", "ms", "printed"), [
    ("5m", 300_000, "5m"), ("1h30m", 5_400_000, "1h30m"), ("90m", 5_400_000, "1h30m"),
    ("1w", 604_800_000, "7d"), ("30d", 2_592_000_000, "30d"), ("250ms", 250, "250ms"), ("1d12h", 129_600_000, "1d12h"),
])
def test_durations(text: str, ms: int, printed: str) -> None:
    assert Duration.parse(text).ms == ms
    assert str(Duration.parse(text)) == printed


@pytest.mark.parametrize("text", ["", "5", "m5", "1h1h", "1m1h", "0s", "-5m", "5 m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("0.999"), "0.999"), (Decimal("14.40"), "14.4"), (Decimal("1E-5"), "0.00001"),
    (Decimal("100"), "100"), (Decimal("1") - Decimal("0.999"), "0.001"), (Decimal("0"), "0"),
])
def test_format_decimal(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text


ROUND_TRIP = {
    "groups": [{
        "name": "a:b",
        "interval": "1m",
        "rules": [
            {"record": "x", "expr": 'sum(rate(m{a="b"}[5m]))', "labels": {"service": "Shop API", "slo": "true"}},
            {"alert": "A", "expr": "a\nor\nb", "for": "10m", "labels": {}, "annotations": {"summary": "it's 'quoted': ok"}},
        ],
    }],
    "strings": ["", "null", "01", "- x", "#c", "a: b", "x #y", "tab\there", "trailing ", "é", "{a}", "[b]", "@x", "*"],
    "numbers": [1, 1.5, 0, -2],
    "bools": [True, False, None],
    "empty": {"list": [], "map": {}},
    "nested": [[1, 2], {"k": [{"a": 1, "b": [1]}]}],
}


def test_dump_round_trips_through_a_yaml_parser() -> None:
    text = dump(ROUND_TRIP)
    assert yaml.safe_load(text) == ROUND_TRIP
    assert dump(yaml.safe_load(text)) == text


def test_dump_writes_multiline_expressions_as_literal_blocks() -> None:
    text = dump({"expr": "a\nor\nb"})
    assert text == "expr: |-\n  a\n  or\n  b\n"


def test_nest_writes_what_dump_writes_for_the_mapping_under_a_key() -> None:
    # Literal blocks with an empty line, lists of mappings, empty values: only the indentation differs.
    value = ROUND_TRIP | {"groups": [{"name": "g", "rules": [{"expr": "a\n\nor\nb\n", "labels": {}}]}]}
    assert nest("spec", dump(value)) == dump({"spec": value})
    assert nest("spec", dump({})) == dump({"spec": {}})


def test_lines_and_duplicate_keys_are_kept() -> None:
    problems = Problems()
    docs = load_documents("a: 1\nb:\n  c: [1, 2]\n  d: x\n  d: y\n---\n- k: 1\n- k: 2\n", "f.yaml", problems,
                          split_lists=True)
    assert not problems
    assert [(d.index, d.line) for d in docs] == [(0, 1), (1, 7), (2, 8)]
    assert line_at(docs[0].data, ("b", "d")) == 5  # the last 'd' wins the value, and its line
    assert docs[0].data["b"].duplicates == [("d", 5)]
    assert line_at(docs[0].data, ("b", "missing", "deeper")) == 2


def test_dates_stay_text() -> None:
    docs = load_documents("start: 2022-01-01 12:00:00\n", "f.yaml", Problems())
    assert docs[0].data["start"] == "2022-01-01 12:00:00"


def test_dump_json_is_the_standard_indented_json() -> None:
    import json
    from decimal import Decimal

    from reliability.yamlio import dump_json

    value = {"b": [1, 2.5, True, None, {"é": "x\"y\n", "a": []}], "a": {}, "c": "</script>", "d": Decimal("0.999")}
    expected = json.dumps({**value, "d": 0.999}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert dump_json(value) == expected
    # The one difference: floats below 1e-4 are written out (an error budget of 99.999%).
    assert dump_json({"budget": Decimal("0.00001")}) == '{\n  "budget": 0.00001\n}\n'
    assert json.loads(dump_json({"budget": Decimal("0.00001")})) == {"budget": 1e-05}
