"""Problems found in user input, collected and reported together.

Every layer (YAML loading, schema checks, semantic checks) appends to one
`Problems` list instead of raising on the first error, so a user fixes a file
in one round trip. The CLI prints them as `FILE:LINE: SLO: FIELD.PATH: message`
and exits 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

NO_SLO = "-"
NO_FIELD = "-"


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, order=True)
class Problem:
    location: Location
    slo: str
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{self.location}: {self.slo}: {self.field}: {prefix}{self.message}"


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, location: Location, slo: str | None, path: str | None, message: str) -> None:
        self.items.append(Problem(location, slo or NO_SLO, path or NO_FIELD, message))

    def warn(self, location: Location, slo: str | None, path: str | None, message: str) -> None:
        self.items.append(Problem(location, slo or NO_SLO, path or NO_FIELD, message, warning=True))

    def extend(self, other: Iterable[Problem]) -> None:
        self.items.extend(other)

    def mark(self) -> int:
        """A point to ask `errors_since` about: what one document added, whatever came before."""
        return len(self.items)

    def errors_since(self, mark: int) -> bool:
        return any(not p.warning for p in self.items[mark:])

    @property
    def errors(self) -> list[Problem]:
        return sorted({p for p in self.items if not p.warning})

    @property
    def warnings(self) -> list[Problem]:
        return sorted({p for p in self.items if p.warning})

    def __bool__(self) -> bool:
        return any(not p.warning for p in self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(sorted(set(self.items)))


class InputError(Exception):
    """Raised when input is invalid; carries every problem found."""

    def __init__(self, problems: Problems):
        super().__init__(f"{len(problems.errors)} problem(s) in the input")
        self.problems = problems


def join_path(*parts: str | int) -> str:
    """Join a field path the way users read it: `slos[0].sli.ratio.errors`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = part
    return out


def did_you_mean(key: str, known: Iterable[str], what: str = "known keys") -> str:
    """` (did you mean 'x'?)` for a typo of a known name, else ` (known keys: a, b)`."""
    names = sorted(known)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" ({what}: {', '.join(names)})"
