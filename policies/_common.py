"""Helpers shared by the policy modules: environment, config, safe tree walking, Helm and Kubernetes shapes.

Policies see resources the way the Pulumi engine hands them to a CrossGuard pack:
`props` are Mappings and Sequences (pulumi-policy wraps them in proxies that raise
`UnknownValueError` on values unknown during preview), keys are the engine's
camelCase names. The offline check (`sre policy check`) builds the same objects
from an `sre render` output, where unknowns are the text "[unknown]" and secrets
"[secret]". Everything here reads both without raising.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyConfigSchema
from pulumi_policy.proxy import UnknownValueError

ENVIRONMENTS = ("local", "dev", "staging", "prod")
# `sre render` writes these in place of secret and unknown values.
SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "[unknown]"
# pulumi-policy's sentinels for values unknown during preview (pulumi_policy/proxy.py).
_UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
Path = tuple[str | int, ...]
# How policies call report_violation: pulumi-policy's ReportViolation alias types `urn` as required,
# though it defaults to None (resource policies never pass it).
Report = Callable[..., None]


class SecretText(str):
    """A string that was a Pulumi secret. The pack's entry point marks secrets this way (see
    `policies.keep_secrets_marked`), because pulumi-policy itself hands policies secrets as plain text."""

    __slots__ = ()


def is_secret(value: Any) -> bool:
    return isinstance(value, SecretText) or value == SECRET_TEXT


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and (value == UNKNOWN_TEXT or value in _UNKNOWN_SENTINELS)


def is_plain_text(value: Any) -> bool:
    """A known string that was not a Pulumi secret."""
    return isinstance(value, str) and not is_secret(value) and not is_unknown(value)


# ------------------------------------------------------------------ environment


def stack_of(urn: str) -> str:
    """The stack name inside a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    head = urn.split("::", 1)[0]
    return head[len("urn:pulumi:") :] if head.startswith("urn:pulumi:") else ""


def environment(urn: str) -> str:
    """The environment a resource belongs to, from its stack name.

    Stacks are named after their environment (reliability/config.py rejects a stack named
    `prod` that deploys anything else). Other names count when they carry the environment as
    a `-`, `.` or `_` separated word (`prod-eu`, `team.staging`); any other stack is treated
    as prod, the strictest rules, so an oddly named stack cannot slip past them.
    """
    stack = stack_of(urn)
    if stack in ENVIRONMENTS:
        return stack
    words = set(re.split(r"[-._/]", stack.lower()))
    for env in ("prod", "staging", "dev", "local"):
        if env in words:
            return env
    return "prod"


# ------------------------------------------------------------------ config


def schema(properties: dict[str, dict[str, Any]]) -> PolicyConfigSchema:
    """A config schema; every property must carry its default (the engine fills them in)."""
    for key, prop in properties.items():
        if "default" not in prop:
            raise TypeError(f"config property {key} has no default")
    return PolicyConfigSchema(properties=properties)


def string_list(default: list[str], description: str) -> dict[str, Any]:
    """A config property holding a list of strings."""
    return {"type": "array", "items": {"type": "string"}, "default": default, "description": description}


def settings(args: Any, config_schema: PolicyConfigSchema) -> dict[str, Any]:
    """The policy's config: the schema's defaults overlaid with what the user set.

    The engine fills defaults itself; unit tests and the offline check may pass none.
    """
    out = {key: prop["default"] for key, prop in config_schema.properties.items()}
    try:
        given = args.get_config() or {}
    except AttributeError:
        given = {}
    out.update({key: value for key, value in given.items() if key in out})
    return out


# ------------------------------------------------------------------ safe access to props


def items(value: Any) -> Iterator[tuple[str | int, Any]]:
    """(key, child) pairs of a mapping or list, skipping children unknown during preview."""
    if isinstance(value, Mapping):
        for key in list(value):
            try:
                yield key, value[key]
            except UnknownValueError:
                continue
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for index in range(len(value)):
            try:
                yield index, value[index]
            except UnknownValueError:
                continue


# Pass as `get(..., unknown=UNKNOWN)` to tell a value unknown during preview from a missing one.
UNKNOWN: Any = object()
_AS_DEFAULT: Any = object()


def get(value: Any, *path: str | int, default: Any = None, unknown: Any = _AS_DEFAULT) -> Any:
    """value[path[0]][path[1]]...; `default` when a step is missing or of the wrong shape, `unknown`
    (by default `default` too) when a step is unknown during preview."""
    if_unknown = default if unknown is _AS_DEFAULT else unknown
    for key in path:
        try:
            if isinstance(key, int):
                if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or key >= len(value):
                    return default
            elif not isinstance(value, Mapping) or key not in value:
                return default
            value = value[key]
        except UnknownValueError:
            return if_unknown
        except (KeyError, IndexError, TypeError):
            return default
        if is_unknown(value):
            return if_unknown
    return value


def is_on(value: Any) -> bool:
    """True, or the text "true" in any case: providers and charts hold some booleans as strings
    (StorageClass parameters, LaunchTemplate fields, grafana.ini values, GF_* env)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def number(value: Any) -> float | None:
    """An int or float (the engine's Struct turns every number into a float), not a bool."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def listing(value: Any) -> list[Any]:
    """A list of children; a lone value counts as a one-item list (IAM `Action: "s3:*"`)."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [child for _, child in items(value)]
    return [] if value is None else [value]


def walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every node of a props tree, depth first, with its path (the root too)."""
    yield path, value
    for key, child in items(value):
        yield from walk(child, (*path, key))


def fmt_path(path: Path) -> str:
    """`values.alertmanager.config.receivers[0]`; keys with dots or slashes quoted: `stringData["a.yaml"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


def name_words(text: str) -> tuple[str, ...]:
    """Lower-case words of a name in order: `FOO_API_KEY`, `fooApiKey`, `foo-api.key` -> (foo, api, key)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return tuple(w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w)


def words(text: str) -> set[str]:
    """Lower-case words of a name: `kps-alertmanager` -> {kps, alertmanager}; camelCase splits too."""
    return set(name_words(text))


# ------------------------------------------------------------------ Helm and Kubernetes shapes

# A Release's own inputs, or what the program gave a helm.v4.Chart (components/helm.py ChartInputs):
# the engine hands policies a v4 Chart with no properties, so the Chart type itself is not read.
_HELM_TYPE = re.compile(r"^(kubernetes:helm\.sh/v3:Release|reliability:helm:Chart)$")
_K8S_TYPE = re.compile(r"^kubernetes:(?P<group>[^:]+)/(?P<version>[^:/]+):(?P<kind>[^:]+)$")


def is_helm(resource_type: str) -> bool:
    return bool(_HELM_TYPE.match(resource_type))


_FOLDER_VERSION = re.compile(r"-v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def chart_name(props: Any) -> str:
    """The chart of a Release/Chart without repository, path or version: `oci://r/x/grafana:1` -> grafana,
    `/mirror/grafana-12.11.1` -> grafana."""
    chart = get(props, "chart", default="")
    if not isinstance(chart, str):
        return ""
    base = chart.rstrip("/").rsplit("/", 1)[-1]
    if chart.startswith((".", "/", "file://")):
        # A chart folder (`charts.folder`): FOLDER/CHART-VERSION/ as well as FOLDER/CHART/.
        base = _FOLDER_VERSION.sub("", base)
    return base.split(":", 1)[0].lower()


def helm_values(props: Any) -> Mapping[str, Any]:
    return mapping(get(props, "values"))


def k8s_kind(resource_type: str) -> str | None:
    """`kubernetes:apps/v1:Deployment` -> Deployment; None for non-objects (Helm, YAML, providers)."""
    match = _K8S_TYPE.match(resource_type)
    if not match or match["group"] in ("helm.sh", "yaml", "kustomize"):
        return None
    return match["kind"]


def k8s_group(resource_type: str) -> str:
    match = _K8S_TYPE.match(resource_type)
    return match["group"] if match else ""


def under_helm_chart(urn: str, parent: str | None = None) -> bool:
    """True for objects a Helm chart rendered (helm.v4.Chart registers each as its child)."""
    for text in (urn, parent or ""):
        type_chain = text.split("::")[2] if text.count("::") >= 3 else ""
        if "kubernetes:helm.sh/" in type_chain:
            return True
    return False


# Kinds that hold a pod template, and where their pod spec sits (spec.template.spec unless listed).
_WORKLOAD_KINDS = (
    "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
)
_POD_SPEC_PATHS: dict[str, Path] = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}


def pod_spec_path(resource_type: str) -> Path | None:
    """Where a workload object keeps its pod spec; None for anything else (a chart's values, a Service)."""
    kind = k8s_kind(resource_type)
    if kind not in _WORKLOAD_KINDS or k8s_group(resource_type) not in ("core", "apps", "batch"):
        return None
    return _POD_SPEC_PATHS.get(kind, ("spec", "template", "spec"))


def labels_and_name(props: Any) -> set[str]:
    """Words of an object's name and its identifying labels (app.kubernetes.io/name, app, component)."""
    meta = mapping(get(props, "metadata"))
    found: set[str] = set()
    for text in (
        get(meta, "name"),
        get(meta, "labels", "app.kubernetes.io/name"),
        get(meta, "labels", "app.kubernetes.io/component"),
        get(meta, "labels", "app"),
    ):
        if isinstance(text, str):
            found |= words(text)
    return found


def namespace_of(props: Any) -> str:
    ns = get(props, "metadata", "namespace")
    return ns if isinstance(ns, str) and ns else "default"


# ------------------------------------------------------------------ durations
# The pack runs in its own virtualenv (requirements.txt) without the `reliability`
# package, and reads chart values too, so Go durations (`1.5h`, `720h`) count here.

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def seconds(text: Any) -> float | None:
    """Prometheus/Go duration text (`30d`, `720h`, `1y`, `2h30m`, `0s`) in seconds; None if not one."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text) * 86400  # a bare number: days (S3 lifecycle `days`)
    if not isinstance(text, str):
        return None
    text = text.strip()
    if text == "0":
        return 0.0
    if not _DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))


# ------------------------------------------------------------------ published controls


def cite(*control_ids: str) -> str:
    """The controls a message is about, as it starts: `[CIS EKS 5.3.1, FSBP EKS.3]` (see controls.yaml)."""
    return "[" + ", ".join(control_ids) + "]"
