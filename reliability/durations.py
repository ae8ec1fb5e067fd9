"""Prometheus-style durations (`5m`, `1h30m`, `30d`) as whole milliseconds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_UNITS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_WHOLE = re.compile(r"^(?:\d+(?:ms|y|w|d|h|m|s))+$")
# Rule names and windows are written with d/h/m/s only: `ratio_rate7d`, never `ratio_rate1w`.
_FORMAT_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


@lru_cache(maxsize=4096)
def _format(ms: int) -> str:
    rest = ms
    out = []
    for unit, size in _FORMAT_UNITS:
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"


@dataclass(frozen=True, order=True)
class Duration:
    ms: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        text = text.strip()
        if not _WHOLE.match(text):
            raise ValueError(f"'{text}' is not a duration like 5m, 1h or 30d")
        total = 0
        last_rank = -1
        order = ["y", "w", "d", "h", "m", "s", "ms"]
        for number, unit in _PART.findall(text):
            rank = order.index(unit)
            if rank <= last_rank:
                raise ValueError(f"'{text}': units must go from largest to smallest, each once")
            last_rank = rank
            total += int(number) * _UNITS[unit]
        if total <= 0:
            raise ValueError(f"'{text}' must be longer than zero")
        return cls(total)

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        return _format(self.ms)

    def __mul__(self, factor: int) -> Duration:
        return Duration(self.ms * factor)

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.ms + other.ms)
