"""`sre render`: run the Pulumi program offline, under Pulumi's mocks, and write what it would create.

No cluster, cloud account or Pulumi CLI: the stack's config comes from
stacks/Pulumi.<stack>.yaml (declared defaults from Pulumi.yaml applied, as the
CLI would; `secure:` values become placeholders), every RegisterResource call is
recorded by a MockMonitor subclass (so resource options are seen too), and the
result is written as:

- `resources.json`: a JSON array sorted by (type, name) of
  `{"type", "name", "urn", "parent", "inputs", "options"}` for every resource,
  components and providers included; `options` holds `protect`,
  `retainOnDelete`, `provider`, `dependsOn` and `ignoreChanges`. Secret values
  are `"[secret]"` (inside a secret mapping or list, each leaf is), numbers keep
  the type they were given (integral floats from the wire become ints).
- `manifests/<kind>-<namespace>-<name>.yaml`: each plain Kubernetes object
  (custom resources included). Helm charts are not templated: their values are
  in resources.json.
- `dashboards/<uid>.json`: every Grafana dashboard the stack ships, exactly the
  JSON its ConfigMap (labelled for Grafana's dashboard sidecar) carries.

- `alertmanager/alertmanager.yaml`: the configuration Alertmanager runs with.

Two renders of the same tree are byte-identical. The --out folder is replaced
as a whole, so a folder holding anything else is refused (see OUTPUT_NAMES).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..alerting.generate import alertmanager_config
from ..alerting.routing import set_secret_command
from ..yamlio import dump, dump_json
from . import PROJECT_DIR
from .config import OFFLINE, PROJECT, SECRET_KEYS, ConfigError, parse
from .configproblems import locate
from .stackfiles import read_stack_file, stack_names

# The top-level names a render writes into --out; a folder holding anything else is refused.
OUTPUT_NAMES = ("alertmanager", "dashboards", "manifests", "resources.json")
SECRET = "[secret]"
UNKNOWN = "[unknown]"
# Markers of Pulumi's wire format (sdk/python/lib/pulumi/runtime/rpc.py).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"
_SIG_RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# Kubernetes resource types that are not objects in the cluster.
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")
MOCK_ACCOUNT = "123456789012"


class RenderError(Exception):
    """The program cannot be rendered as it is (e.g. two resources with one name)."""


@dataclass
class StackInput:
    stack: str
    values: dict[str, str]
    secret_keys: set[str] = field(default_factory=set)
    file: str = ""  # the stack file as messages name it, and its parsed text (with lines), for `locate`
    data: Any = None

    def located(self, error: ConfigError) -> ConfigError:
        """The same problems, each prefixed with the stack file and the line it is about."""
        return ConfigError(error.stack, locate(error.problems, self.data, self.file) if self.file else error.problems)


# ------------------------------------------------------------------ stack config as the CLI passes it


def _namespaced(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def _mask_secure(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ciphertext}` leaves by a placeholder; report whether any was found."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return SECRET, True
        found = False
        out = {}
        for key, item in value.items():
            out[key], hit = _mask_secure(item)
            found = found or hit
        return out, found
    if isinstance(value, list):
        pairs = [_mask_secure(item) for item in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def _as_config_text(value: Any) -> str:
    """The CLI hands the program strings: booleans as true/false, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _plain_leaves(value: Any, path: str) -> list[str]:
    """Paths under `value` that are not `{secure: ...}` (a credential committed in clear)."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return []
        return [leaf for key, item in value.items() for leaf in _plain_leaves(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _plain_leaves(item, f"{path}[{i}]")]
    return [path]


def stack_input(stack: str, project_dir: Path = PROJECT_DIR) -> StackInput:
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    stacks_dir = project_dir / project.get("stackConfigDir", ".")
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = stack_names(stacks_dir)
        raise ConfigError(
            stack, [f"no stack file {path.relative_to(project_dir)} (stacks: {', '.join(known)})"]
        )
    data, problems = read_stack_file(path, str(path.relative_to(project_dir)))
    if data is None:
        raise ConfigError(stack, [f"{p.location}: {p.message}" for p in problems.errors])
    result = StackInput(stack, {}, file=str(path.relative_to(project_dir)), data=data)
    plain_secrets: list[str] = []
    for key, value in (data.get("config") or {}).items():
        full = _namespaced(key)
        masked, secret = _mask_secure(value)
        result.values[full] = _as_config_text(masked)
        if secret:
            result.secret_keys.add(full)
        if full.split(":", 1)[1] in SECRET_KEYS and secret:
            # Pulumi marks the whole key secret when one leaf is: a plain sibling would pass unseen.
            plain_secrets += [f"{leaf}: must be encrypted like its siblings: set it with "
                              f"`{set_secret_command(*leaf.split(':', 1)[1].split('.', 1))}`"
                              for leaf in _plain_leaves(value, full)]
    if plain_secrets:
        raise result.located(ConfigError(stack, plain_secrets))
    for key, decl in (project.get("config") or {}).items():
        full = _namespaced(key)
        if full in result.values or not isinstance(decl, Mapping):
            continue
        if "default" in decl:
            result.values[full] = _as_config_text(decl["default"])
        elif "value" in decl:
            result.values[full] = _as_config_text(decl["value"])
    return result


# ------------------------------------------------------------------ the mocks


def _wire_to_plain(value: Any) -> Any:
    """Struct JSON (secrets wrapped, numbers as floats) to what the program gave."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SIG_SECRET:
            return _mask(_wire_to_plain(value.get("value")))
        if sig == _SIG_RESOURCE:
            return value.get("urn")
        return {key: _wire_to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire_to_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    return value


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return SECRET


def _mock_outputs(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs echoed back, plus the outputs the program reads from a few cloud resources.

    Plain Kubernetes objects echo only their identity: the program reads nothing else
    from them, and echoing megabytes of PrometheusRule specs through the SDK's
    serialisation twice more was a third of a 500-SLO render.
    """
    if typ.startswith("kubernetes:") and not typ.startswith(_NOT_OBJECTS):
        return {key: inputs[key] for key in ("apiVersion", "kind", "metadata") if key in inputs}
    out = dict(inputs)
    if typ.startswith("aws:"):
        out.setdefault("arn", f"arn:aws:mock:::{name}")
    if typ == "aws:eks/cluster:Cluster":
        out["endpoint"] = f"https://{name}.eks.mock"
        out["certificateAuthority"] = {"data": "bW9jaw=="}
        out["identities"] = [{"oidcs": [{"issuer": f"https://oidc.eks.mock/id/{name}"}]}]
    elif typ == "aws:iam/role:Role":
        out["arn"] = f"arn:aws:iam::{MOCK_ACCOUNT}:role/{name}"
    elif typ == "aws:s3/bucket:Bucket":
        out["arn"] = f"arn:aws:s3:::{inputs.get('bucket', name)}"
    elif typ == "random:index/randomPassword:RandomPassword":
        out["result"] = "mock-password"
    elif typ == "kubernetes:helm.sh/v4:Chart":
        out["resources"] = []
    elif typ == "pagerduty:index/serviceIntegration:ServiceIntegration":
        out["integrationKey"] = f"mock-routing-key-{name}"
    return out


def _make_mocks() -> Any:
    import pulumi

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", _mock_outputs(args.typ, args.name, args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
                names = [f"mock-zone-{c}" for c in "abcdef"]
                return {"names": names, "zoneIds": names, "id": "zones"}, []
            if args.token == "pagerduty:index/getUser:getUser":  # users exist already; looked up by email
                email = str(args.args.get("email", ""))
                return {"id": f"P{email.split('@')[0].upper()}", "email": email, "name": email}, []
            raise RenderError(f"the program calls {args.token}, which the offline render does not mock")

    return Mocks()


def _make_monitor(mocks: Any) -> Any:
    from pulumi.runtime import rpc
    from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.sync_await import _sync_await

    class RecordingMonitor(MockMonitor):
        """Sees every RegisterResource request, so options (protect, provider, ...) are recorded too.

        MockMonitor.RegisterResource (pulumi 3.272) again, deserialising the inputs once for both
        the record and the mocks: big PrometheusRule specs made that a second a render.
        """

        def __init__(self, mocks: Any):
            super().__init__(mocks)
            self.registered: list[dict[str, Any]] = []

        def RegisterResource(self, request: Any) -> Any:
            urn = self.make_urn(request.parent, request.type, request.name)
            if request.type == "pulumi:pulumi:Stack":
                return resource_pb2.RegisterResourceResponse(urn=urn)
            inputs = rpc.deserialize_properties(request.object)
            options = {
                "protect": request.protect if request.HasField("protect") else False,
                "retainOnDelete": request.retainOnDelete if request.HasField("retainOnDelete") else False,
                "provider": request.provider.rsplit("::", 1)[0] if request.provider else None,
                "dependsOn": sorted(set(request.dependencies)),
                "ignoreChanges": sorted(request.ignoreChanges),
                "deleteBeforeReplace": request.deleteBeforeReplace,
            }
            self.registered.append(
                {
                    "type": request.type,
                    "name": request.name,
                    "urn": urn,
                    "parent": request.parent or None,
                    "custom": request.custom,
                    "inputs": _wire_to_plain(inputs),
                    "options": options,
                }
            )
            id_, state = self.mocks.new_resource(MockResourceArgs(
                typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
                resource_id=request.importId, custom=request.custom or False,
            ))
            obj = _sync_await(rpc.serialize_properties(state, {}))
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_ or "", state)
            return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj)

    return RecordingMonitor(mocks)


def run_program(stack_in: StackInput, monitor: Any = None, offline: bool = True) -> list[dict[str, Any]]:
    """Run components.program under mocks in a fresh context; return the recorded registrations.

    `monitor` (from _make_monitor) lets a caller see what was registered before a failure.
    `offline=False` runs the program as a deploy would (example stacks refused, the deploying
    principal looked up), for tests whose mocks answer what a deploy asks.
    """

    def run() -> list[dict[str, Any]]:
        import pulumi
        from pulumi.runtime.stack import run_pulumi_func

        from components.program import program

        def main() -> None:
            program()

        with _owned_event_loops() as loop:  # first: set_mocks already makes futures on the current loop
            recorder = monitor or _make_monitor(_make_mocks())
            pulumi.runtime.set_mocks(
                recorder.mocks, project=PROJECT, stack=stack_in.stack, preview=False, monitor=recorder
            )
            # MockSettings leaves the set of pending outputs to a process-wide default, where the
            # tasks of a failed render would stay and break the next one in this process.
            pulumi.runtime.settings.SETTINGS.outputs = set()
            pulumi.runtime.set_all_config(dict(stack_in.values), sorted(stack_in.secret_keys))
            OFFLINE.set(offline)  # this context only: the render is never a deploy
            loop.run_until_complete(run_pulumi_func(main))
        return list(recorder.registered)

    # Pulumi keeps its settings, root stack and config in context variables: a fresh context per render.
    return contextvars.Context().run(run)


@contextlib.contextmanager
def _owned_event_loops() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop for this thread and one for each thread the mock monitor runs on, all closed on exit.

    The SDK calls the monitor from the loop's default executor, and the monitor deserialises
    with asyncio there. Loops the SDK would create on its own are left to the garbage
    collector, which at interpreter exit may close a loop's self-pipe socket before the
    loop: "Exception ignored ... Invalid file descriptor: -1" after a failed render.
    """
    loops: list[asyncio.AbstractEventLoop] = []
    lock = threading.Lock()

    def own_loop() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with lock:
            loops.append(loop)

    failed = False

    def report(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # After a failure the error is reported once; the outputs that carried it to the
        # program need not each print it again ("Future exception was never retrieved").
        if not (failed and "never retrieved" in context.get("message", "")):
            loop.default_exception_handler(context)

    main = asyncio.new_event_loop()
    main.set_exception_handler(report)
    executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="render-monitor", initializer=own_loop)
    main.set_default_executor(executor)
    asyncio.set_event_loop(main)
    try:
        yield main
    except BaseException:
        failed = True
        raise
    finally:
        try:
            for task in asyncio.all_tasks(main):
                task.cancel()
            main.run_until_complete(asyncio.sleep(0))  # let cancelled tasks finish
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            for loop in loops:
                loop.close()
            main.close()
            asyncio.set_event_loop(None)


# ------------------------------------------------------------------ output


def canonical(obj: Any) -> Any:
    """Keys sorted at every level (manifest() puts apiVersion, kind, metadata first, as kubectl does)."""
    if isinstance(obj, dict):
        return {key: canonical(obj[key]) for key in sorted(obj)}
    if isinstance(obj, list):
        return [canonical(item) for item in obj]
    return obj


def manifest(obj: Mapping[str, Any]) -> dict[str, Any]:
    head = [key for key in ("apiVersion", "kind", "metadata") if key in obj]
    return {key: canonical(obj[key]) for key in [*head, *sorted(k for k in obj if k not in head)]}


def dump_manifest(obj: Mapping[str, Any]) -> str:
    """Block-style YAML in the given key order (the compiler's emitter: a 500-SLO render writes
    megabytes of rules, and PyYAML's representer alone took 2 s of it)."""
    return dump(dict(obj))


def manifest_name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', 'Unknown')}-{meta.get('namespace') or '_cluster'}-{meta.get('name')}.yaml"


def is_kubernetes_object(entry: Mapping[str, Any]) -> bool:
    typ = entry["type"]
    return typ.startswith("kubernetes:") and not typ.startswith(_NOT_OBJECTS)


def sidecar_dashboards(obj: Mapping[str, Any]) -> dict[str, str]:
    """File name -> JSON of the dashboards in a ConfigMap that Grafana's sidecar loads, else nothing."""
    from components.grafana import DASHBOARD_LABEL

    labels = (obj.get("metadata") or {}).get("labels") or {}
    if obj.get("kind") != "ConfigMap" or DASHBOARD_LABEL not in labels:
        return {}
    return {key: text for key, text in (obj.get("data") or {}).items() if key.endswith(".json")}


def build(registered: list[dict[str, Any]]) -> dict[str, str]:
    """File name -> content of the render output; raises RenderError on duplicate names."""
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for entry in registered:
        key = (entry["type"], entry["name"])
        seen[key] = seen.get(key, 0) + 1
    problems += [
        f"resource name '{n}' is used {c} times for type {t}" for (t, n), c in sorted(seen.items()) if c > 1
    ]

    entries = sorted(
        (
            {k: entry[k] for k in ("type", "name", "urn", "parent", "inputs", "options")}
            for entry in registered
        ),
        key=lambda e: (e["type"], e["name"]),
    )
    files = {"resources.json": dump_json(entries)}
    objects: dict[str, str] = {}
    for entry in entries:
        if not is_kubernetes_object(entry):
            continue
        obj = entry["inputs"]
        fname = f"manifests/{manifest_name(obj)}"
        if fname in files:
            problems.append(
                f"two resources create the same Kubernetes object {fname[10:-5]} "
                f"({objects[fname]} and {entry['name']})"
            )
            continue
        objects[fname] = entry["name"]
        files[fname] = dump_manifest(manifest(obj))
        for data_key, json_text in sidecar_dashboards(obj).items():
            if f"dashboards/{data_key}" in files:
                problems.append(f"two ConfigMaps carry the dashboard file {data_key} ({entry['name']} is one)")
            files[f"dashboards/{data_key}"] = json_text
    if problems:
        raise RenderError("; ".join(problems))
    return files


def render(
    stack: str, project_dir: Path = PROJECT_DIR, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Validate the stack's config, run the program offline, return the files to write.

    `overrides` replaces config values (`{"reliability:key": text}`), e.g. a generated spec folder.
    """
    from components.program import defaults

    stack_in = stack_input(stack, project_dir)
    # Pulumi.yaml: the spec folder is relative to that file, so to --project-dir here.
    specs_key = f"{PROJECT}:sloSpecs"
    if specs_key in stack_in.values and not os.path.isabs(stack_in.values[specs_key]):
        stack_in.values[specs_key] = os.fspath(project_dir / stack_in.values[specs_key])
    stack_in.values.update(overrides or {})
    try:
        cfg, _ = parse(stack, stack_in.values, stack_in.secret_keys, defaults())  # before the engine
    except ConfigError as exc:
        raise stack_in.located(exc) from None
    files = build(run_program(stack_in))
    # The exact config Alertmanager runs with (credentials are file paths); the Secret that
    # carries it shows as "[secret]" in resources.json, as every Secret's data does.
    files["alertmanager/alertmanager.yaml"] = alertmanager_config(cfg)
    return files


def write(files: dict[str, str], out_dir: str) -> None:
    """Swap `files` in as `out_dir`; raises OutputRefused if it holds anything a render does not write."""
    from ..slo.compile import write_output

    write_output(files, os.fspath(out_dir), OUTPUT_NAMES)
