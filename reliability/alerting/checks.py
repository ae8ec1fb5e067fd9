"""Checking an `alertmanager.yaml` before anything loads it, and loading it safely (`apply_config`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .routing import _DURATION

# --- Checking and loading a config ------------------------------------------------------------
#
# Who keeps a broken config away from a running Alertmanager:
#   1. this generator: `parse_routing` refuses bad stack config, and `alertmanager_config`
#      re-checks what it rendered, so `sre render` / `pulumi up` fail before the Secret changes;
#      CI runs `amtool check-config` on every stack's config (tests/unit/alerting);
#   2. in a cluster, prometheus-operator: it loads the config Secret with Alertmanager's own
#      `config.Load` before it writes the generated Secret the pods mount
#      (pkg/alertmanager/amcfg.go, alertmanagerConfigFromBytes), and the
#      config-reloader sidecar only POSTs /-/reload for a file the operator wrote;
#   3. Alertmanager itself: a failed /-/reload keeps the old config (HTTP 500,
#      `alertmanager_config_last_reload_successful 0`), but the broken file stays on disk and
#      the next restart of that instance fails (verified with 0.25).
# `apply_config` is roles 2 and 3 for Alertmanagers run outside the operator (a VM, the
# end-to-end tests): check first, then write the file, then reload; a refused config never
# touches the file or the running processes.

_TOP_LEVEL = ("global", "route", "receivers", "inhibit_rules", "templates", "time_intervals", "mute_time_intervals")
_ROUTE_DURATIONS = ("group_wait", "group_interval", "repeat_interval")


class ConfigRejected(ValueError):
    """A config `check_config` refused: nothing was written or reloaded."""

    def __init__(self, problems: list[str]):
        super().__init__("Alertmanager config refused:\n" + "\n".join(problems))
        self.problems = problems


class ReloadFailed(RuntimeError):
    """An Alertmanager refused a reload; the previous file was put back."""

    def __init__(self, failures: list[str]):
        super().__init__("Alertmanager reload failed:\n" + "\n".join(failures))
        self.failures = failures


def _route_problems(route: Any, where: str, names: set[str], out: list[str]) -> None:
    if not isinstance(route, Mapping):
        out.append(f"{where}: expected a mapping")
        return
    receiver = route.get("receiver")
    if where == "route" and not isinstance(receiver, str):
        out.append(f"{where}.receiver: the root route needs a receiver")
    elif receiver is not None and receiver not in names:
        out.append(f"{where}.receiver: undefined receiver {receiver!r}")
    for key in _ROUTE_DURATIONS:
        value = route.get(key)
        if value is not None and not (isinstance(value, str) and _DURATION.match(value)):
            out.append(f"{where}.{key}: {value!r} is not a duration such as 30s or 1h")
    children = route.get("routes", [])
    if not isinstance(children, list):
        out.append(f"{where}.routes: expected a list")
        return
    for i, child in enumerate(children):
        _route_problems(child, f"{where}.routes[{i}]", names, out)


def _structure_problems(text: str) -> list[str]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return [f"not YAML{where}: {getattr(exc, 'problem', None) or ' '.join(str(exc).split())}"]
    if not isinstance(data, Mapping):
        return ["expected a mapping with route and receivers"]
    out = [f"{key}: unknown top-level field" for key in data if key not in _TOP_LEVEL]
    receivers = data.get("receivers")
    names: set[str] = set()
    if not isinstance(receivers, list) or not receivers:
        out.append("receivers: expected a non-empty list")
    else:
        for i, receiver in enumerate(receivers):
            name = receiver.get("name") if isinstance(receiver, Mapping) else None
            if not isinstance(name, str) or not name:
                out.append(f"receivers[{i}].name: every receiver needs a name")
            elif name in names:
                out.append(f"receivers[{i}].name: receiver {name!r} is defined twice")
            else:
                names.add(name)
    if "route" not in data:
        out.append("route: missing: Alertmanager needs a root route")
    else:
        _route_problems(data["route"], "route", names, out)
    rules = data.get("inhibit_rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, Mapping) for r in rules):
        out.append("inhibit_rules: expected a list of mappings")
    return out


def _amtool_problems(text: str, amtool: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="amcheck-") as tmp:
        path = Path(tmp) / "alertmanager.yaml"
        path.write_text(text, encoding="utf-8")
        result = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True,
                                timeout=60, check=False)
    if result.returncode == 0:
        return []
    # `Checking 'FILE'  FAILED: reason` (reason may span lines), then `amtool: error: ...` on stderr.
    reason = result.stdout.split("FAILED:", 1)[-1] if "FAILED:" in result.stdout else result.stdout + result.stderr
    return [f"amtool check-config: {' '.join(reason.split())}"]


def check_config(text: str, *, amtool: bool = True) -> list[str]:
    """Problems with an `alertmanager.yaml` text, before anything loads it; [] when it is fine.

    Always: YAML, the top-level fields, receivers named once, every route's receiver
    defined, route durations. With `amtool` (and amtool on PATH): `amtool check-config`,
    which is Alertmanager's own loader and catches everything it would refuse. The
    structural checks alone are what the Pulumi program runs (it cannot count on amtool).
    """
    problems = _structure_problems(text)
    tool = shutil.which("amtool") if amtool else None
    if tool and not any(p.startswith("not YAML") for p in problems):
        problems += _amtool_problems(text, tool)
    return problems


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _reload(url: str, timeout: float) -> str | None:
    """POST <url>/-/reload; None when Alertmanager took the config, else why not."""
    request = urllib.request.Request(url.rstrip("/") + "/-/reload", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as exc:
        return f"{url}: HTTP {exc.code}: {exc.read().decode(errors='replace').strip()}"
    except OSError as exc:
        return f"{url}: {exc}"


def apply_config(text: str, config_file: str | Path, reload_urls: Sequence[str], *, timeout: float = 10) -> None:
    """Check `text`, write it to `config_file`, then reload every Alertmanager at `reload_urls`.

    Raises ConfigRejected, before the file or any process is touched, when `check_config`
    finds a problem. Raises ReloadFailed when an instance still refuses it (e.g. an amtool
    older than the server); the previous file is then put back and the instances that had
    taken the new config are reloaded with it again, so that every instance and the file on
    disk agree and a restart comes up with the config that was running.
    """
    problems = check_config(text)
    if problems:
        raise ConfigRejected(problems)
    path = Path(config_file)
    previous = path.read_text(encoding="utf-8") if path.exists() else None
    _write_atomically(path, text)
    results = {url: _reload(url, timeout) for url in reload_urls}
    failures = [why for why in results.values() if why]
    if failures:
        if previous is not None:
            _write_atomically(path, previous)
            failures += [why for url, ok in results.items() if ok is None and (why := _reload(url, timeout))]
        raise ReloadFailed(failures)
