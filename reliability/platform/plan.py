"""`sre plan check`: replacements and deletions of stateful resources, found in a preview before they run.

Input is `pulumi preview --json` (the engine's preview digest: `config`, `steps` with `op`,
`urn`, `oldState`, `newState`, `replaceReasons`). With `--show-replacement-steps` the
digest also holds `create-replacement` and `delete-replaced` steps, in the order the engine
will run them, which is how a replacement that deletes first is told from one that creates
first. In staging and prod a step that deletes or replaces stateful state, or a protected
resource, blocks the change until someone names it with `--allow` after review.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..alerting.routing import CONFIG_SECRET

REVIEWED_ENVIRONMENTS = ("staging", "prod")
DESTRUCTIVE = {"delete", "replace", "delete-replaced", "discard", "discard-replaced"}
KNOWN_OPS = DESTRUCTIVE | {
    "same", "create", "update", "create-replacement", "read", "read-replacement", "refresh",
    "remove-pending-replace", "import", "import-replacement",
}
# Type token -> what is lost when the resource goes away.
STATEFUL_TYPES = {
    "aws:s3/bucket:Bucket": "a bucket and every object in it",
    "aws:s3/bucketV2:BucketV2": "a bucket and every object in it",
    "aws:eks/cluster:Cluster": "the cluster and every workload on it",
    "aws:eks/nodeGroup:NodeGroup": "a node group: its nodes are drained and their pods rescheduled",
    "aws:ebs/volume:Volume": "a volume and its data",
    "aws:efs/fileSystem:FileSystem": "a file system and its data",
    "aws:kms/key:Key": "a key: data encrypted with it can no longer be read",
    "aws:rds/instance:Instance": "a database and its data",
    "kubernetes:core/v1:PersistentVolumeClaim": "a volume claim and, with the Delete reclaim policy, its data",
    "kubernetes:core/v1:PersistentVolume": "a volume and its data",
    "kubernetes:apps/v1:StatefulSet": "a workload with volumes: every replica restarts at once",
    "kubernetes:helm.sh/v3:Release": "a Helm release: uninstalled, then installed again",
}


class PlanInputError(Exception):
    """The file is not a preview digest; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    type: str
    name: str
    protected: bool
    state: Mapping[str, Any]
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        why = f" (replace reasons: {', '.join(self.reasons)})" if self.reasons else ""
        return f"{self.op} {self.type} {self.name}{why}"


@dataclass(frozen=True)
class Finding:
    step: Step
    why: str
    allowed: bool

    def __str__(self) -> str:
        mark = "allowed: " if self.allowed else ""
        return f"{mark}{self.step.label}: {self.why}"


@dataclass(frozen=True)
class Plan:
    environment: str
    findings: tuple[Finding, ...]
    unused_allows: tuple[str, ...] = ()

    @property
    def blocking(self) -> list[Finding]:
        if self.environment not in REVIEWED_ENVIRONMENTS:
            return []
        return [f for f in self.findings if not f.allowed]


def load(path: str | Path) -> dict[str, Any]:
    where = Path(path)
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanInputError(f"{where}: no such file: write it with `pulumi preview --json > {where}`") from None
    except ValueError as exc:
        raise PlanInputError(
            f"{where}: not JSON ({exc}): give the output of `pulumi preview --json` alone (no other text on stdout)"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("steps", []), list):
        raise PlanInputError(f"{where}: not a preview: expected an object with `steps` (`pulumi preview --json`)")
    for i, raw in enumerate(data.get("steps", [])):
        if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str) or raw.get("op") not in KNOWN_OPS:
            raise PlanInputError(
                f"{where}: steps[{i}]: not a preview step (needs `op`, one of {', '.join(sorted(KNOWN_OPS))}, "
                "and `urn`)"
            )
    return data


def _step(raw: Mapping[str, Any]) -> Step:
    urn = raw["urn"]
    # urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME
    qualified, _, name = urn.rpartition("::")
    typ = qualified.rsplit("::", 1)[-1].rsplit("$", 1)[-1]
    old = raw.get("oldState") or {}
    new = raw.get("newState") or {}
    state = old or new
    return Step(
        op=raw["op"],
        urn=urn,
        type=state.get("type") or typ,
        name=name,
        protected=bool(old.get("protect")),
        state=state,
        reasons=tuple(sorted(raw.get("replaceReasons") or ())),
    )


def _name_of(step: Step) -> str:
    inputs = step.state.get("inputs") or {}
    metadata = inputs.get("metadata") or {}
    return str(metadata.get("name", "")) if isinstance(metadata, dict) else ""


def _mounts_claims(step: Step) -> bool:
    """A Deployment or DaemonSet whose pods mount a PersistentVolumeClaim (Grafana's, say)."""
    spec = ((step.state.get("inputs") or {}).get("spec") or {}).get("template", {}).get("spec", {})
    volumes = spec.get("volumes") or [] if isinstance(spec, dict) else []
    return any(isinstance(v, dict) and v.get("persistentVolumeClaim") for v in volumes)


def _deletes_first(steps: list[Step]) -> set[str]:
    """URNs whose replacement deletes the old resource before the new one exists."""
    created: set[str] = set()
    first: set[str] = set()
    for step in steps:
        if step.op == "create-replacement":
            created.add(step.urn)
        elif step.op == "delete-replaced" and step.urn not in created:
            first.add(step.urn)
    return first


def _why(step: Step, deletes_first: set[str], saw_replacement_steps: bool) -> str | None:
    what = _what(step, deletes_first, saw_replacement_steps)
    if step.protected:
        protected = "protected: the engine refuses it until `protect` is lifted, so decide before merging"
        return f"{what}; {protected}" if what else protected
    return what


def _what(step: Step, deletes_first: set[str], saw_replacement_steps: bool) -> str | None:
    if step.type == "kubernetes:core/v1:Secret" and _name_of(step) == CONFIG_SECRET:
        if step.op == "delete":
            return "the Alertmanager config: without it Alertmanager routes nothing"
        if step.urn in deletes_first:
            return "the Alertmanager config is deleted before its replacement exists: alerts stop routing in between"
        if step.op == "replace" and not saw_replacement_steps:
            return ("the Alertmanager config is replaced and the preview does not show in which order: run "
                    "`pulumi preview --json --show-replacement-steps`")
        return None
    what = STATEFUL_TYPES.get(step.type)
    if what is None and step.type in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:DaemonSet"):
        what = "a workload whose pods mount a volume claim" if _mounts_claims(step) else None
    return what


def check(digest: Mapping[str, Any], allow: Iterable[str] = (), environment: str | None = None) -> Plan:
    """Every destructive step on stateful or protected state; `allow` names reviewed ones (name or URN)."""
    config = digest.get("config") or {}
    env = environment or str(config.get("reliability:environment", ""))
    steps = [_step(raw) for raw in digest.get("steps") or []]
    deletes_first = _deletes_first(steps)
    saw_replacement_steps = any(s.op in ("create-replacement", "delete-replaced") for s in steps)
    allowed = set(allow)
    findings: dict[tuple[str, str], Finding] = {}
    for step in steps:
        if step.op not in DESTRUCTIVE:
            continue
        why = _why(step, deletes_first, saw_replacement_steps)
        # One finding per resource: a replacement shows as replace and delete-replaced.
        if why and (step.urn, why) not in findings:
            findings[(step.urn, why)] = Finding(step, why, step.name in allowed or step.urn in allowed)
    ordered = sorted(findings.values(), key=lambda f: (f.step.type, f.step.name, f.step.op))
    used = {f.step.name for f in ordered} | {f.step.urn for f in ordered}
    return Plan(env, tuple(ordered), tuple(sorted(allowed - used)))
