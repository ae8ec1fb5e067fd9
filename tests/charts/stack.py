"""One stack as the cluster would hold it: the program's own objects plus every chart's rendered objects."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import yaml

from components.program import defaults
from reliability.platform.config import StackConfig, parse
from reliability.platform.render import _make_mocks, _make_monitor, run_program, stack_input

from ..unit.platform.conftest import rendered, resources
from .helm import LOCAL_KUBE_VERSION, template

HELM = "kubernetes:helm.sh/"
SIG, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"  # Pulumi's wire format


@dataclass(frozen=True)
class Stack:
    name: str
    resources: tuple[dict[str, Any], ...]
    program: tuple[dict[str, Any], ...]  # the plain Kubernetes objects the program creates
    charts: dict[str, tuple[dict[str, Any], ...]]  # chart name -> the objects helm template renders

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [*self.program, *(obj for objs in self.charts.values() for obj in objs)]

    def of_kind(self, kind: str, chart: str | None = None) -> list[dict[str, Any]]:
        source = self.charts[chart] if chart else self.objects
        return [obj for obj in source if obj.get("kind") == kind]

    def one(self, kind: str, name: str, chart: str | None = None) -> dict[str, Any]:
        found = [obj for obj in self.of_kind(kind, chart) if obj["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.name}: {len(found)} {kind} named {name}"
        return found[0]

    def aws(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]


@functools.cache
def stack(name: str) -> Stack:
    res = resources(name)
    files = rendered(name)
    program = tuple(yaml.safe_load(text) for path, text in sorted(files.items()) if path.startswith("manifests/"))
    clusters = [r for r in res if r["type"] == "aws:eks/cluster:Cluster"]
    kube_version = clusters[0]["inputs"]["version"] if clusters else LOCAL_KUBE_VERSION
    charts = {r["inputs"]["chart"]: tuple(template(r, kube_version)) for r in res if r["type"].startswith(HELM)}
    return Stack(name, res, program, charts)


def alertmanager_config(name: str) -> dict[str, Any]:
    return yaml.safe_load(rendered(name)["alertmanager/alertmanager.yaml"])


@functools.cache
def config(name: str) -> StackConfig:
    stack_in = stack_input(name)
    return parse(name, stack_in.values, stack_in.secret_keys, defaults())[0]


def _revealed(value: Any) -> Any:
    """A value as the program gave it, secrets unwrapped."""
    if isinstance(value, dict):
        if value.get(SIG) == SECRET_SIG:
            return _revealed(value["value"])
        return {key: _revealed(item) for key, item in value.items()}
    return [_revealed(item) for item in value] if isinstance(value, list) else value


@functools.cache
def secret_string_data(stack_name: str, namespace: str, name: str) -> dict[str, str] | None:
    """The stringData the program gives a Secret, revealed (the render shows "[secret]");
    None when the stack creates no such Secret. One more run of the program under the mocks."""
    mocks = _make_mocks()
    found: list[dict[str, Any]] = []

    class Capture(type(mocks)):  # type: ignore[misc]
        def new_resource(self, args: Any) -> Any:
            meta = args.inputs.get("metadata") or {}
            if args.typ == "kubernetes:core/v1:Secret" and (meta.get("namespace"), meta.get("name")) == (namespace, name):
                found.append(_revealed(args.inputs))
            return super().new_resource(args)

    run_program(stack_input(stack_name), _make_monitor(Capture()))
    if not found:
        return None
    (secret,) = found
    return secret.get("stringData")  # type: ignore[no-any-return]
