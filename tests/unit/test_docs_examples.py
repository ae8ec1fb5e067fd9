"""The README and docs/ are tested as code: links resolve, example specs validate, every
`sre` command they show is one the CLI accepts, and the stack-config and post-mortem examples
(each marked `<!-- tested: KIND -->` on the line before its fence) pass the parsers that read
the real thing."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from components.program import defaults
from reliability.alerting.generate import alertmanager_config
from reliability.alerting.routing import parse_routing
from reliability.cli import build_parser, main
from reliability.incidents import record
from reliability.incidents.oncall import OnCall, environment_problems
from reliability.platform.charts import folder_problems, locate, pins
from reliability.platform.config import Charts, parse
from reliability.platform.render import stack_input
from reliability.slo.load import load

from ..conftest import tool

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")
MARKED = re.compile(r"^<!-- tested: ([\w -]+) -->\n( *)```yaml\n(.*?)^\2```", re.M | re.S)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


def _blocks(page: Path, language: str) -> list[str]:
    return _blocks_of(page.read_text(encoding="utf-8"), language)


def _blocks_of(text: str, language: str) -> list[str]:
    out = []
    for m in FENCE.finditer(text):
        if m.group(2) == language:
            indent = len(m.group(1))
            out.append("\n".join(line[indent:] for line in m.group(3).splitlines()))
    return out


def test_the_readme_links_every_docs_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = {m.group(1).split("#")[0] for m in LINK.finditer(readme)}
    assert sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")) == sorted(
        link for link in linked if link.startswith("docs/")
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_and_anchors_resolve(page):
    broken = []
    for m in LINK.finditer(CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))):
        target = m.group(1)
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no heading with that anchor in {file.name}")
    assert broken == []



def _readme_sections() -> list[str]:
    return re.findall(r"^## (.+)$", FENCE.sub("", (REPO / "README.md").read_text(encoding="utf-8")), re.M)


def test_the_readme_starts_with_the_two_commands_then_the_layout_then_the_tour():
    """A newcomer finds `make up` and `make test` without scrolling: first after what the project is."""
    assert _readme_sections()[:3] == ["Two commands", "Repository layout", "From an SLO spec to a page"]
    first = _blocks(REPO / "README.md", "sh")[0]
    assert [line.split("#")[0].strip() for line in first.splitlines()] == ["make up", "make test"]


def test_the_readme_layout_names_every_room_and_helper():
    """Each room of reliability/ (a package) and each shared helper module appears in the layout block."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Repository layout", 1)[1]
    [block] = _blocks_of(layout.split("\n## ", 1)[0], "")
    package = REPO / "reliability"
    rooms = sorted(f"{d.name}/" for d in package.iterdir() if (d / "__init__.py").exists())
    helpers = sorted(f.name for f in package.glob("*.py") if f.stem not in ("__init__", "__main__"))
    listed = set(re.findall(r"^  (\w+/)", block, re.M)) | set(re.findall(r"\b(\w+\.py)\b", block))
    assert [name for name in [*rooms, *helpers] if name not in listed] == []

def _spec_examples() -> list[tuple[str, str]]:
    return [
        (f"{page.relative_to(REPO)}#{i}", block)
        for page in PAGES
        for i, block in enumerate(_blocks(page, "yaml"))
        if "apiVersion: reliability-as-code/v1" in block
    ]


def test_there_are_spec_examples_to_check():
    assert len(_spec_examples()) >= 2


@pytest.mark.parametrize("where,block", _spec_examples(), ids=[w for w, _ in _spec_examples()])
def test_example_specs_validate(where, block, tmp_path):
    spec = tmp_path / "example.yaml"
    spec.write_text(block, encoding="utf-8")
    result = load([str(spec)])
    assert [str(p) for p in result.problems.errors] == [], where
    assert result.services and result.services[0].slos


def _sre_commands() -> list[tuple[str, list[str]]]:
    commands = []
    for page in PAGES:
        for block in _blocks(page, "sh"):
            for line in block.splitlines():
                line = line.split(" #", 1)[0].strip()
                if not line.startswith("sre "):
                    continue
                line = re.sub(r"\[[^\]]*\]", "", line)  # optional parts: [--config FILE]
                commands.append((f"{page.relative_to(REPO)}: {line}", shlex.split(line)[1:]))
    return commands


def test_there_are_sre_commands_to_check():
    assert len(_sre_commands()) >= 8


@pytest.mark.parametrize("where,argv", _sre_commands(), ids=[w for w, _ in _sre_commands()])
def test_documented_sre_commands_parse(where, argv):
    """The command, its sub-command and every option shown exist (argparse exits 2 otherwise)."""
    build_parser().parse_args(argv)


def _page_labels(promtool_tests: Path) -> list[list[str]]:
    """Every page alert the generated promtool tests expect, as `name=value` arguments for amtool."""
    found = set()
    for test in yaml.safe_load(promtool_tests.read_text(encoding="utf-8"))["tests"]:
        for case in test.get("alert_rule_test", []):
            for alert in case.get("exp_alerts") or []:
                if alert["exp_labels"].get("severity") == "page":
                    found.add(tuple(sorted({"alertname": case["alertname"], **alert["exp_labels"]}.items())))
    return [[f"{k}={v}" for k, v in labels] for labels in sorted(found)]


def test_the_readme_tour_runs(tmp_path, capsys):
    """The README's five minutes, for real: its spec validates for prod (the team is routed
    there), compiles, its generated promtool tests pass, and the page alerts those tests expect
    reach the receiver the tour names in prod's Alertmanager config (the real amtool decides)."""
    tool("promtool")
    amtool = tool("amtool")
    readme = REPO / "README.md"
    [spec] = [b for b in _blocks(readme, "yaml") if "apiVersion: reliability-as-code/v1" in b]
    specs = tmp_path / "slo-specs"
    specs.mkdir()
    (specs / "cart-api.yaml").write_text(spec, encoding="utf-8")
    stacks = ["--stacks-dir", str(REPO / "stacks")]
    commands = [argv for _, argv in _sre_commands() if _.startswith("README.md") and argv[0] == "slo"]
    assert [argv[:2] for argv in commands] == [["slo", "validate"], ["slo", "compile"], ["slo", "test"]]
    for argv in commands:
        argv = [str(specs) if a == "slo-specs/" else str(tmp_path / a) if a.startswith("out/") else a for a in argv]
        code = main([*argv, *stacks] if argv[1] != "test" else argv)
        assert code == 0, (argv, capsys.readouterr().err)
    assert (tmp_path / "out" / "slo" / "prometheusrules" / "cart-api.yaml").exists()

    [receiver] = re.findall(r"Alertmanager pages the \w+ on-call through PagerDuty \(receiver `([\w-]+)`",
                            readme.read_text(encoding="utf-8"))
    stack_in = stack_input("prod")
    config = tmp_path / "alertmanager.yaml"
    config.write_text(alertmanager_config(parse("prod", stack_in.values, stack_in.secret_keys, defaults())[0]))
    pages = _page_labels(tmp_path / "out" / "slo" / "tests" / "cart-api.yaml")
    assert [labels[:2] for labels in pages] == [  # both SLOs page; the tour's spec names the team
        ["alertname=CartApiAvailabilityBudgetBurn", "service=cart-api"],
        ["alertname=CartApiLatencyBudgetBurn", "service=cart-api"],
    ]
    for labels in pages:
        result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}",
                                 f"--verify.receivers={receiver}", *labels], capture_output=True, text=True)
        assert (result.returncode, result.stdout.strip()) == (0, receiver), (labels, result.stderr)


def _marked(kind: str) -> list[tuple[str, str]]:
    return [(f"{page.relative_to(REPO)}#{i}", m.group(3))
            for page in PAGES for i, m in enumerate(MARKED.finditer(page.read_text(encoding="utf-8")))
            if m.group(1) == kind]


def test_the_marked_examples_are_the_ones_the_docs_show():
    """A marker lost in an edit would silently drop an example from the tests."""
    found = sorted((where.split("#")[0], kind) for kind in ("stack-config", "post-mortem front matter")
                   for where, _ in _marked(kind))
    assert found == [("docs/alert-routing.md", "stack-config"), ("docs/incidents.md", "post-mortem front matter"),
                     ("docs/incidents.md", "stack-config"), ("docs/platform.md", "stack-config")]


def _check_alerting(config: dict, tmp_path: Path) -> list[str]:
    credentials = config.get("reliability:alertingCredentials") or {}
    _, problems = parse_routing(config["reliability:alerting"], "prod", credentials)
    return problems


def _check_oncall(config: dict, tmp_path: Path) -> list[str]:
    oncall = OnCall.model_validate(config["reliability:oncall"])
    return environment_problems(oncall, "prod") + environment_problems(oncall, "staging")


def _check_charts(config: dict, tmp_path: Path) -> list[str]:
    charts = Charts.model_validate(config["reliability:charts"])
    project = tmp_path / "project"  # the folder is relative to Pulumi.yaml
    (tmp_path / "charts").mkdir(parents=True)
    project.mkdir()
    return folder_problems(charts.folder, [], project, "stacks/Pulumi.local.yaml") if charts.folder else []


# Each key a stack-config example may show, and the section parser the stack's own config goes through.
SECTION_CHECKS = {
    "reliability:alerting": _check_alerting,
    "reliability:alertingCredentials": None,  # read with reliability:alerting
    "reliability:oncall": _check_oncall,
    "reliability:charts": _check_charts,
}


@pytest.mark.parametrize("where,block", _marked("stack-config"), ids=[w for w, _ in _marked("stack-config")])
def test_stack_config_examples_parse(where, block, tmp_path):
    data = yaml.safe_load(block)
    config = data.get("config", data)  # a stack file excerpt, or the keys alone
    assert set(config) <= set(SECTION_CHECKS), f"{where}: no check for {sorted(set(config) - set(SECTION_CHECKS))}"
    problems = [p for key, check in SECTION_CHECKS.items() if check and key in config
                for p in check(config, tmp_path)]
    assert problems == [], where


def test_the_chart_mirror_the_platform_page_mentions_is_one_helm_can_use():
    """docs/platform.md shows the mirror as a comment (one source at a time): it parses too."""
    [line] = [line for block in _marked("stack-config") if block[0].startswith("docs/platform.md")
              for line in block[1].splitlines() if "reliability:charts: {repository:" in line]
    charts = Charts.model_validate(yaml.safe_load(line.strip().lstrip("#"))["reliability:charts"])
    pin = next(iter(pins().values()))
    assert locate(pin, charts.folder, charts.repository).chart == (
        f"oci://registry.corp.example/helm-charts/{pin.chart}")


@pytest.mark.parametrize("where,block", _marked("post-mortem front matter"),
                         ids=[w for w, _ in _marked("post-mortem front matter")])
def test_post_mortem_front_matter_examples_are_read_by_the_incident_record(where, block):
    incident, problems = record.parse(f"---\n{block}---\n\n## Summary\n", where)
    assert problems == [] and incident is not None
    assert (incident.service, incident.severity, incident.alerts) == (
        "checkout-api", "SEV2", ("CheckoutApiAvailabilityBudgetBurn",))
