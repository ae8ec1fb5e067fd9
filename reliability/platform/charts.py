"""Where the pinned Helm charts come from: their upstream repositories, a folder, or one mirror.

components/charts.yaml is the single source of chart versions. The stack setting
`charts` only says where those exact versions are fetched from:

- nothing set: each chart's upstream repository (needs the internet at `pulumi up`);
- `folder`: unpacked charts, `<folder>/<chart>-<version>/` or `<folder>/<chart>/`, with their
  subcharts in `charts/` (what `helm pull --untar` leaves), for air-gapped clusters;
- `repository`: one Helm repository (`https://...`) or OCI registry (`oci://...`) that mirrors
  every chart (Artifactory, Harbor, Nexus, ChartMuseum), asked for the pinned version.

A folder is checked before anything is created: a chart missing there, or one whose
Chart.yaml says another version than the pin, is a config problem naming both. A Helm
repository mirror is checked by the program before it creates anything on `pulumi up` and
`preview` (not by the offline `sre render`, which reaches no network): its index.yaml must list
every pinned chart at the pinned version, or the error names the versions the mirror has and the
pin. An OCI registry has no index to read; Helm's pull of the pinned version names what is
missing there.
"""

from __future__ import annotations

import functools
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import PROJECT_DIR

CHARTS_FILE = PROJECT_DIR / "components" / "charts.yaml"
CHARTS_FILE_NAME = "components/charts.yaml"
# Charts a stack installs only when a switch is on: chart key -> config section.
OPTIONAL = {"chaos-mesh": "chaos", "k6-operator": "loadtest"}


@dataclass(frozen=True)
class ChartPin:
    key: str
    repo: str
    chart: str
    version: str
    resource: str  # "release" (helm.v3.Release) or "chart" (helm.v4.Chart)


@dataclass(frozen=True)
class ChartRef:
    """What Helm is given: a chart name with a repository and version, or a local path (no version)."""

    chart: str
    version: str | None
    repo: str | None


@functools.cache
def pins() -> dict[str, ChartPin]:
    data = yaml.safe_load(CHARTS_FILE.read_text(encoding="utf-8"))
    return {key: ChartPin(key=key, **spec) for key, spec in sorted(data["charts"].items())}


def deployed_charts(enabled: Callable[[str], bool]) -> list[str]:
    """The chart keys a stack installs: every pinned chart, the OPTIONAL ones only where
    `enabled(section)` says their config section is switched on."""
    return [key for key in pins() if key not in OPTIONAL or enabled(OPTIONAL[key])]


def chart_version(folder: Path) -> tuple[str, str] | None:
    """(name, version) from an unpacked chart's Chart.yaml, or None if there is none."""
    try:
        meta = yaml.safe_load((folder / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(meta, dict):
        return None
    return str(meta.get("name", "")), str(meta.get("version", ""))


def find_in_folder(folder: Path, pin: ChartPin) -> tuple[Path | None, str | None]:
    """The unpacked chart for `pin` under `folder`, or None and why not (the fix included)."""
    for candidate in (folder / f"{pin.chart}-{pin.version}", folder / pin.chart):
        found = chart_version(candidate)
        if found is None:
            continue
        name, version = found
        if name != pin.chart:
            return None, f"{candidate}/Chart.yaml names chart '{name}', not '{pin.chart}'"
        if version != pin.version:
            return None, (
                f"{candidate} holds {pin.chart} {version} but {CHARTS_FILE_NAME} pins {pin.version}: "
                f"put {pin.chart}-{pin.version} there (helm pull {pin.chart} --version {pin.version} --untar)"
            )
        return candidate, None
    others = sorted(
        p.name for p in folder.glob(f"{pin.chart}-*") if (chart_version(p) or ("",))[0] == pin.chart
    )
    if others:
        return None, (
            f"{folder} has {', '.join(others)} but {CHARTS_FILE_NAME} pins {pin.chart} {pin.version}: "
            f"put {pin.chart}-{pin.version} there"
        )
    return None, f"no {pin.chart}-{pin.version}/Chart.yaml under {folder} (the pin of {CHARTS_FILE_NAME})"


def folder_problems(folder: str, wanted: list[str], base: Path, stack_file: str) -> list[str]:
    """`reliability:charts.folder` problems for the chart keys `wanted`; relative folders start at `base`."""
    root = (base / folder).resolve()
    where = f"reliability:charts.folder ({stack_file})"
    if not root.is_dir():
        return [f"{where}: {root} is not a folder (a folder of unpacked charts, <chart>-<version>/)"]
    problems = []
    for key in wanted:
        _, why = find_in_folder(root, pins()[key])
        if why:
            problems.append(f"{where}: {why}")
    return problems


def read_index(url: str) -> bytes:
    """The bytes of a Helm repository's index.yaml (https, or http on a private network)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()  # type: ignore[no-any-return]


def repository_problems(repository: str, wanted: list[str], stack_file: str,
                        read: Callable[[str], bytes] = read_index) -> list[str]:
    """`reliability:charts.repository` problems for the chart keys `wanted`: every pinned chart must
    be in the mirror's index.yaml at the pinned version. An OCI registry (no index) gives none."""
    if repository.startswith("oci://"):
        return []
    where = f"reliability:charts.repository ({stack_file})"
    url = f"{repository.rstrip('/')}/index.yaml"
    try:
        index = yaml.safe_load(read(url))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        return [f"{where}: cannot read {url} ({exc}): check the mirror's URL, or set charts.folder instead"]
    except yaml.YAMLError as exc:
        return [f"{where}: {url} is not a Helm repository index ({str(exc).splitlines()[0]})"]
    entries = index.get("entries") if isinstance(index, dict) else None
    if not isinstance(entries, dict):
        return [f"{where}: {url} is not a Helm repository index (no `entries`)"]
    problems = []
    for key in wanted:
        pin = pins()[key]
        versions = [str(e.get("version")) for e in entries.get(pin.chart) or [] if isinstance(e, dict)]
        if pin.version in versions:
            continue
        fix = (f"mirror {pin.chart} {pin.version} there "
               f"(helm pull {pin.chart} --repo {pin.repo} --version {pin.version})")
        if versions:
            problems.append(f"{where}: {repository} has {pin.chart} {', '.join(dict.fromkeys(versions))} but "
                            f"{CHARTS_FILE_NAME} pins {pin.version}: {fix}")
        else:
            problems.append(f"{where}: {repository} has no {pin.chart} ({CHARTS_FILE_NAME} pins {pin.version}): {fix}")
    return problems


def locate(pin: ChartPin, folder: str | None, repository: str | None, base: Path = PROJECT_DIR) -> ChartRef:
    """The chart reference Helm is given for `pin` under a stack's `charts` setting."""
    if folder:
        path, why = find_in_folder((base / folder).resolve(), pin)
        if path is None:  # config validation reports this first; reaching here is a changed folder
            raise ValueError(f"reliability:charts.folder: {why}")
        return ChartRef(chart=str(path), version=None, repo=None)
    if repository and repository.startswith("oci://"):
        return ChartRef(chart=f"{repository.rstrip('/')}/{pin.chart}", version=pin.version, repo=None)
    if repository:
        return ChartRef(chart=pin.chart, version=pin.version, repo=repository)
    return ChartRef(chart=pin.chart, version=pin.version, repo=pin.repo)
