"""Read spec files of any supported format into validated `Service` models.

Files are read, split into documents, recognised by their version fields and
handed to the format that owns them. Problems from every file are collected;
the caller gets services only when there are none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..durations import Duration
from ..problems import Location, Problem, Problems
from ..yamlio import Document, iter_yaml_files, load_documents
from .formats import native, openslo, sloth
from .model import Service
from .parallel import fork_map
from .windows import WindowCatalog, load_catalogs

# Below this many files per worker a forked process costs more than it saves.
PARALLEL_FILES_PER_WORKER = 32
FORMATS_HELP = (
    "reliability-as-code/v1 (ours), Sloth prometheus/v1 and sloth.slok.dev/v1 PrometheusServiceLevel, "
    "OpenSLO openslo/v1 and openslo/v1alpha"
)


@dataclass
class LoadResult:
    services: list[Service] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    catalogs: dict[Duration, WindowCatalog] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    environment_refs: list[native.EnvironmentRef] = field(default_factory=list)



class UnknownServices(ValueError):
    """Services asked for by name that the specs do not hold; `known` are the ones they do."""

    def __init__(self, missing: list[str], known: list[str]):
        super().__init__(f"no such service: {', '.join(missing)} (known: {', '.join(known) or 'none'})")
        self.missing, self.known = missing, known


def select(services: list[Service], names: list[str] | None) -> list[Service]:
    """The services named, in the specs' order (all of them when no name is given).

    UnknownServices lists every name the specs do not hold, sorted, and the names they do, in order.
    """
    wanted = set(names or [])
    missing = sorted(wanted - {s.name for s in services})
    if missing:
        raise UnknownServices(missing, [s.name for s in services])
    return [s for s in services if s.name in wanted] if wanted else list(services)

def _classify(doc: Document, problems: Problems) -> str | None:
    data = doc.data
    loc = Location(doc.file, doc.line)
    if not isinstance(data, dict):
        kinds = ((bool, "true or false"), (list, "a list"), (str, "a string"), ((int, float), "a number"))
        kind = next((name for types, name in kinds if isinstance(data, types)), type(data).__name__)
        problems.add(loc, None, None, f"a spec document must be a mapping of fields, this one is {kind}")
        return None
    api = data.get("apiVersion")
    if data.get("kind") in ("AlertWindows", "BurnRateWindows"):
        problems.add(loc, None, "kind", "this is a burn-rate window catalog, not an SLO spec: pass it with --windows")
        return None
    if api == native.API_VERSION:
        return "native"
    if data.get("version") == sloth.PROMETHEUS_V1:
        return "sloth"
    if api == sloth.K8S_API_VERSION and data.get("kind") == "PrometheusServiceLevel":
        return "sloth"
    if data.get("kind") == "PrometheusRule" or (api is None and "version" not in data and "groups" in data):
        problems.add(loc, None, None, "this is a Prometheus rule file (compiler output?), not an SLO spec: "
                                      "leave it out of the spec paths")
        return None
    if api in openslo.API_VERSIONS:
        return "openslo"
    if isinstance(api, str) and api.startswith("openslo"):
        problems.add(loc, None, "apiVersion",
                     f"OpenSLO version {api!r} is not supported; use openslo/v1 or openslo/v1alpha")
        return None
    what = f"apiVersion {api!r}" if api is not None else (
        f"version {data['version']!r}" if "version" in data else "no apiVersion or version field")
    problems.add(loc, None, "apiVersion" if api is not None else None,
                 f"unknown spec format ({what}); supported: {FORMATS_HELP}")
    return None


def _read_files(files: list[str], problems: Problems) -> list[Document]:
    docs: list[Document] = []
    for path in files:
        if not os.path.exists(path):
            problems.add(Location(path, 1), None, None, "no such file or folder")
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(Location(path, 1), None, None, f"cannot read: {exc}")
            continue
        found = [d for d in load_documents(text, path, problems, split_lists=True) if d.data is not None]
        if not found and not any(p.location.file == path for p in problems.errors):
            problems.add(Location(path, 1), None, None, "file is empty: expected at least one SLO spec document")
        docs.extend(found)
    return docs


@dataclass
class _Mapped:
    """What some spec files hold, mapped where a document stands alone (ours, Sloth's); OpenSLO
    documents refer to each other, so they are mapped together afterwards."""

    services: list[Service] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    environment_refs: list[native.EnvironmentRef] = field(default_factory=list)
    openslo: list[Document] = field(default_factory=list)


def _map_files(files: list[str], catalogs: dict[Duration, WindowCatalog], env: str | None) -> _Mapped:
    problems = Problems()
    docs = _read_files(files, problems)
    mapped = _Mapped()
    for doc in docs:
        fmt = _classify(doc, problems)
        if fmt == "native":
            mapped.services.extend(native.map_document(doc, problems, catalogs, env))
            mapped.environment_refs.extend(native.environment_refs(doc))
        elif fmt == "sloth":
            mapped.services.extend(sloth.map_document(doc, problems, catalogs, env))
        elif fmt == "openslo":
            mapped.openslo.append(doc)
    mapped.problems = problems.items
    return mapped


def load(paths: list[str], env: str | None = None, windows: list[str] | None = None, workers: int = 1) -> LoadResult:
    """`workers` > 1 reads and validates files in that many forked processes when there are many
    (for the CLI; a Pulumi program keeps the default: forking under its gRPC threads is unsafe)."""
    result = LoadResult()
    problems = result.problems
    result.catalogs = load_catalogs(windows, problems)
    result.files = list(iter_yaml_files(paths))
    if not result.files:
        problems.add(Location(paths[0] if paths else ".", 1), None, None, "no spec files (*.yaml, *.yml, *.json) found")
    workers = min(workers, len(result.files) // PARALLEL_FILES_PER_WORKER)
    if workers > 1:  # contiguous chunks, merged in order: the same result as one process
        size = -(-len(result.files) // workers)
        chunks = [result.files[i:i + size] for i in range(0, len(result.files), size)]
        parts = fork_map(_map_files, chunks, [result.catalogs] * len(chunks), [env] * len(chunks))
    else:
        parts = [_map_files(result.files, result.catalogs, env)]
    services: list[Service] = []
    openslo_docs: list[Document] = []
    for part in parts:
        services.extend(part.services)
        problems.extend(part.problems)
        result.environment_refs.extend(part.environment_refs)
        openslo_docs.extend(part.openslo)
    services.extend(openslo.map_documents(openslo_docs, problems, result.catalogs, env))
    result.services = _check_unique(services, problems)
    return result


def _check_unique(services: list[Service], problems: Problems) -> list[Service]:
    """One service name, one definition; OpenSLO's one-SLO-per-document services are merged first."""
    from .naming import slug

    first: dict[str, Service] = {}
    slugs: dict[str, Service] = {}
    for service in sorted(services, key=lambda s: (s.source.file, s.source.line)):
        if service.name in first:
            other = first[service.name]
            problems.add(service.source, None, "service",
                         f"service '{service.name}' is already defined at {other.source}; "
                         "keep one file per service")
            continue
        key = slug(service.name)
        if key in slugs:
            problems.add(service.source, None, "service",
                         f"service '{service.name}' and '{slugs[key].name}' ({slugs[key].source}) "
                         f"would both be written to {key}.yaml; rename one")
            continue
        first[service.name] = service
        slugs[key] = service
    return sorted(first.values(), key=lambda s: s.name)
