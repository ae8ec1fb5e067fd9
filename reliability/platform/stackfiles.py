"""Stack files, `stacks/Pulumi.<stack>.yaml`: which stacks exist, and a file read as the Pulumi CLI reads it.

One reader for the render, `sre slo validate --env` and the environment checks, so a
syntax error or a repeated key (PyYAML keeps the last one; the Pulumi CLI refuses the
file) is reported the same way, with its line, wherever the file is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..problems import Location, Problems, did_you_mean
from ..yamlio import line_at, load_documents

# The top-level keys of a Pulumi stack file (Pulumi docs: project and stack settings).
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")


def stack_names(stacks_dir: str | Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in Path(stacks_dir).glob("Pulumi.*.yaml"))


def _duplicate_keys(value: Any, shown: str, problems: Problems) -> None:
    for key, line in getattr(value, "duplicates", []):
        problems.add(Location(shown, line), None, None,
                     f"'{key}' is given twice (the Pulumi CLI refuses the file): keep one")
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else []
    for item in items:
        _duplicate_keys(item, shown, problems)


def read_stack_file(path: Path, shown: str) -> tuple[dict[str, Any] | None, Problems]:
    """The file's mapping, or None and the problems (syntax error, not a mapping, repeated keys).

    `shown` is how messages name the file (e.g. relative to the project).
    """
    problems = Problems()
    docs = load_documents(path.read_text(encoding="utf-8"), shown, problems)
    if problems:
        return None, problems
    data = docs[0].data if docs else {}
    if not isinstance(data, Mapping) or not isinstance(data.get("config", {}), (Mapping, type(None))):
        problems.add(Location(shown, 1), None, None, "expected a mapping with a `config:` mapping")
        return None, problems
    for key in data:
        if key not in STACK_FILE_KEYS:
            problems.add(Location(shown, line_at(data, (key,))), None, None,
                         f"unknown key '{key}'{did_you_mean(str(key), STACK_FILE_KEYS)}: nothing under it is read")
    _duplicate_keys(data, shown, problems)
    return (None if problems else dict(data)), problems


def stack_setting(env: str | None, stacks_dir: str | Path, key: str, default: str) -> str:
    """A string setting `reliability:KEY` of an environment's stack file (`default` when unset or unreadable)."""
    from .config import PROJECT

    path = Path(stacks_dir) / f"Pulumi.{env}.yaml"
    if env is None or not path.is_file():
        return default
    data, _ = read_stack_file(path, str(path))
    value = ((data or {}).get("config") or {}).get(f"{PROJECT}:{key}")
    return value if isinstance(value, str) and value else default


def grafana_url(env: str | None, stacks_dir: str | Path) -> str:
    """The `reliability:grafanaUrl` of an environment's stack file (the default when unset or unreadable),
    so `sre slo compile --env ENV` links alerts to the same Grafana as that stack's deploy."""
    from .config import DEFAULT_GRAFANA_URL

    return stack_setting(env, stacks_dir, "grafanaUrl", DEFAULT_GRAFANA_URL)
