"""Times as `sre report`, `sre loadtest verdict` take them: one parser, each command's own message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from reliability.budgets.report import parse_time as report_time
from reliability.testing.verdict import parse_time as verdict_time
from reliability.times import parse_instant

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize("text,expected", [
    ("2026-11-01", NOV_1),  # a date is midnight UTC
    ("2026-11-01T00:00:00Z", NOV_1),
    ("2026-11-01T00:00:00", NOV_1),  # no offset: UTC
    ("2026-11-01T01:00:00+01:00", datetime(2026, 11, 1, 1, tzinfo=timezone(timedelta(hours=1)))),
])
def test_an_instant_is_utc_unless_an_offset_is_given(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


def test_report_times_name_the_flag() -> None:
    assert report_time("2026-11-01T01:00:00+01:00", "--from") == NOV_1.timestamp()
    with pytest.raises(ValueError) as exc:
        report_time("December", "--to")
    assert str(exc.value) == ("--to 'December': expected a date such as 2026-11-01 or a time such as "
                              "2026-11-01T00:00:00Z")


def test_verdict_times_take_unix_seconds_too() -> None:
    assert verdict_time("1793491200") == verdict_time("2026-11-01") == NOV_1.timestamp()
    with pytest.raises(ValueError) as exc:
        verdict_time("yesterday")
    assert str(exc.value) == "'yesterday' is not a time: use RFC 3339 (2026-12-04T03:00:00Z) or Unix seconds"
