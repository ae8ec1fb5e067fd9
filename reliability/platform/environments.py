"""Which environment names exist: the project's stacks, so a typo in `--env` or in a
spec's `environments:` key is reported instead of silently applying no override.

A spec folder checked outside a Pulumi project (no stack files in --stacks-dir)
is held to the four environments this project ships.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..problems import Problems
from ..slo.formats.native import EnvironmentRef
from .config import ENVIRONMENTS
from .stackfiles import stack_names


def known_environments(stacks_dir: str) -> tuple[tuple[str, ...], str]:
    """The environment names and where they come from (for messages)."""
    found = stack_names(stacks_dir)
    if found:
        return tuple(found), f"the stacks in {stacks_dir}/"
    return ENVIRONMENTS, f"the built-in environments (no stack files in {stacks_dir}/)"


def unknown_env_message(env: str | None, stacks_dir: str) -> str | None:
    """Why `--env` is refused, if it is: an unknown name would compile with no override applied."""
    names, source = known_environments(stacks_dir)
    if env is None or env in names:
        return None
    return (f"--env '{env}' is not one of {source}: {', '.join(names)}; "
            "pass an existing stack name, or --stacks-dir for another project")


def check_spec_environments(refs: Iterable[EnvironmentRef], stacks_dir: str, problems: Problems) -> None:
    """A warning per override keyed by an environment that does not exist: it never applies."""
    names, source = known_environments(stacks_dir)
    for ref in refs:
        if ref.env not in names:
            problems.warn(ref.location, ref.slo, ref.field,
                          f"no environment '{ref.env}' among {source} ({', '.join(names)}): "
                          + ("nothing is deployed there" if ref.field.endswith("]") else "this override never applies")
                          + "; rename it to an existing stack")
