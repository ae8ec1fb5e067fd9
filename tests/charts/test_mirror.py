"""A `charts.repository` mirror is checked against the pins before the engine creates anything.

The mirror here is a real Helm repository: the reference charts packaged by `helm package`,
indexed by `helm repo index`, served over HTTP on loopback, as ChartMuseum or an Artifactory
Helm repository serves one.
"""

from __future__ import annotations

import contextvars
import functools
import http.server
import shutil
import subprocess
from collections.abc import Iterator

import pulumi
import pytest
import yaml

from components.program import defaults
from reliability.platform.charts import pins, repository_problems
from reliability.platform.config import PROJECT, from_pulumi, mirror_problems, parse
from reliability.platform.render import _make_mocks, _owned_event_loops

from ..loopback import serving
from ..unit.platform.test_config import good
from .helm import chart_dir, helm

pytestmark = pytest.mark.cluster
STALE = "tempo"  # the chart the mirror holds at another version than the pin


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every pinned chart (local's: chaos and load tests on) packaged and indexed, tempo at 2.3.0."""
    root = tmp_path_factory.mktemp("mirror")
    for pin in pins().values():
        source = chart_dir(pin.chart, pin.version)
        if pin.chart == STALE:  # a copy of the pinned chart, bumped
            copy = shutil.copytree(source, root / "src" / pin.chart)
            meta = yaml.safe_load((copy / "Chart.yaml").read_text())
            (copy / "Chart.yaml").write_text(yaml.safe_dump({**meta, "version": "2.3.0"}))
            source = copy
        subprocess.run([helm(), "package", str(source), "--destination", str(root / "repo")],
                       check=True, capture_output=True, timeout=120)
    subprocess.run([helm(), "repo", "index", str(root / "repo")], check=True, capture_output=True, timeout=60)
    handler = functools.partial(QuietHandler, directory=str(root / "repo"))
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield f"{url}/charts"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path: str) -> str:
        return super().translate_path(path.removeprefix("/charts"))

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_mirror_with_another_version_of_a_pinned_chart_names_both(repository: str) -> None:
    cfg, _ = parse("local", good("local", charts={"repository": repository}), frozenset(), defaults())
    pin = pins()[STALE]
    assert mirror_problems(cfg, offline=False) == [
        f"reliability:charts.repository (stacks/Pulumi.local.yaml): {repository} has tempo 2.3.0 but "
        f"components/charts.yaml pins {pin.version}: mirror tempo {pin.version} there "
        f"(helm pull tempo --repo {pin.repo} --version {pin.version})"]
    # The offline render reaches no mirror.
    assert mirror_problems(cfg, offline=True) == []


def test_the_engine_stops_before_creating_anything(repository: str) -> None:
    """The program's config read (what `pulumi up` and `preview` run first) refuses the stack."""
    # A named kind context: a real run reads the distribution from it (empty, from the kubeconfig).
    values = good("local", kubeContext="kind-reliability", charts={"repository": repository})

    def read() -> None:
        with _owned_event_loops():
            pulumi.runtime.set_mocks(_make_mocks(), project=PROJECT, stack="local", preview=False)
            pulumi.runtime.set_all_config(values, [])
            from_pulumi(defaults())

    with pytest.raises(pulumi.RunError) as refused:
        contextvars.Context().run(read)
    assert str(refused.value) == (
        "invalid config for stack 'local' (1 problem(s)):\n"
        f"  reliability:charts.repository (stacks/Pulumi.local.yaml): {repository} has tempo 2.3.0 but "
        f"components/charts.yaml pins {pins()[STALE].version}: mirror tempo {pins()[STALE].version} there "
        f"(helm pull tempo --repo {pins()[STALE].repo} --version {pins()[STALE].version})")


def test_a_mirror_with_every_pinned_version_passes(repository: str) -> None:
    """Every chart but tempo is there at its pin: nothing to say about those."""
    wanted = [key for key in pins() if key != STALE]
    assert repository_problems(repository, wanted, "stacks/Pulumi.local.yaml") == []
