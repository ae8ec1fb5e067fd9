"""`sre render` as users run it: exit codes, messages, nothing written on failure."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reliability.platform.render import write
from reliability.slo.compile import OutputRefused

from .conftest import REPO


def sre(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reliability", *args], cwd=REPO, text=True, capture_output=True, check=False
    )


def project_with(tmp_path: Path, stack_file: dict) -> Path:
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "stacks" / "Pulumi.bad.yaml").write_text(json.dumps(stack_file))
    return project


def test_render_writes_resources_and_manifests(tmp_path):
    out = tmp_path / "out"
    result = sre("render", "--stack", "local", "--out", str(out))
    assert result.returncode == 0, result.stderr
    entries = json.loads((out / "resources.json").read_text())
    assert entries == sorted(entries, key=lambda e: (e["type"], e["name"]))
    assert set(entries[0]) == {"type", "name", "urn", "parent", "inputs", "options"}
    assert (out / "manifests" / "Namespace-_cluster-monitoring.yaml").is_file()


def test_bad_config_exits_2_naming_every_key_and_writes_nothing(tmp_path):
    project = project_with(
        tmp_path,
        {
            "config": {
                "reliability:environment": "dev",
                "reliability:cluster": {"region": "eu-west-1"},
                "reliability:replicas": {"prometheus": "two"},
                "reliability:retention": {"logs": "forever"},
                "reliability:colour": "blue",
            }
        },
    )
    out = tmp_path / "out"
    result = sre("render", "--stack", "bad", "--out", str(out), "--project-dir", str(project))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for key in ("reliability:replicas.prometheus", "reliability:retention.logs", "reliability:colour"):
        assert key in result.stderr
    assert not out.exists()


def test_missing_stack_exits_2(tmp_path):
    result = sre("render", "--stack", "nope", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "no stack file stacks/Pulumi.nope.yaml (stacks: dev, local, prod, staging)" in result.stderr


def test_invalid_slo_specs_exit_2_with_the_compilers_lines(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "broken.yaml").write_text(
        "apiVersion: reliability-as-code/v1\nkind: ServiceLevelObjectives\n"
        "service: broken\nteam: payments\nslos:\n  - name: x\n    objective: 200\n"
    )
    project = project_with(
        tmp_path, {"config": {"reliability:environment": "local", "reliability:sloSpecs": str(specs)}}
    )
    result = sre("render", "--stack", "bad", "--out", str(tmp_path / "out"), "--project-dir", str(project))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"invalid SLO specs in {specs} for environment 'local'" in result.stderr
    assert f"{specs}/broken.yaml:" in result.stderr


def test_project_dir_supplies_the_slo_specs_too(tmp_path):
    # sloSpecs is relative to Pulumi.yaml: a render of another project reads that project's specs.
    project = tmp_path / "project"
    shutil.copytree(REPO / "stacks", project / "stacks")
    shutil.copy(REPO / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "slo-specs").mkdir()
    (project / "slo-specs" / "ghost.yaml").write_text(
        "apiVersion: reliability-as-code/v1\nkind: ServiceLevelObjectives\nservice: ghost\nteam: ghosts\n"
        "runbook_url: https://runbooks.example.com/ghost\nslos:\n  - name: up\n    objective: 99\n"
        "    sli: {raw: {error_ratio: '1 - avg_over_time(up{job=\"ghost\"}[{{window}}])'}}\n"
    )
    result = sre("render", "--stack", "dev", "--out", str(tmp_path / "out"), "--project-dir", str(project))
    assert result.returncode == 2, result.stderr
    assert "team 'ghosts' has no alert routing in environment 'dev'" in result.stderr
    assert "Traceback" not in result.stderr


def project_with_dev_text(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """A project whose dev stack file is ours after `edit(text)`."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "stacks", project / "stacks")
    shutil.copy(REPO / "Pulumi.yaml", project / "Pulumi.yaml")
    path = project / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text()
    assert edit(text) != text, "the edit must change the stack file"
    path.write_text(edit(text))
    return project


WEBHOOK = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # A syntax error: the file and line, not a parser traceback.
        (lambda t: t.replace("  reliability:environment: dev\n", "  reliability:environment: [dev\n"),
         "stacks/Pulumi.dev.yaml:"),
        # A repeated key: PyYAML keeps the last one silently; the Pulumi CLI refuses the file.
        (lambda t: t + "  reliability:environment: prod\n",
         "'reliability:environment' is given twice (the Pulumi CLI refuses the file): keep one"),
        # One credential in clear among encrypted ones: Pulumi would mark the whole key secret.
        (lambda t: t.replace('payments-chat: {secure: "v1:placeholder:set-with-pulumi-config-set-secret"}',
                             f"payments-chat: {WEBHOOK}"),
         "reliability:alertingCredentials.payments-chat: must be encrypted like its siblings: set it with "
         "`pulumi config set --secret --path alertingCredentials.payments-chat`"),
        # A credential pasted where its name belongs: refused without repeating it.
        (lambda t: t.replace("webhook: payments-chat", f"webhook: {WEBHOOK}"),
         "expected the name of an alertingCredentials entry, not the credential itself (value not shown)"),
        # A quoted boolean: Argo Rollouts is either there or not.
        (lambda t: t.replace("config:\n", "config:\n  reliability:canary:\n    argoRollouts: \"true\"\n", 1),
         'stacks/Pulumi.dev.yaml:{line}: reliability:canary.argoRollouts: expected true or false, got "true"'),
    ],
    ids=["syntax", "duplicate-key", "plain-credential", "credential-inline", "canary"],
)
def test_bad_stack_files_exit_2_naming_the_problem_without_echoing_secrets(tmp_path, edit, expected):
    project = project_with_dev_text(tmp_path, edit)
    result = sre("render", "--stack", "dev", "--out", str(tmp_path / "out"), "--project-dir", str(project))
    assert result.returncode == 2, result.stderr
    if "{line}" in expected:  # the line the edit put the bad value on, counted in the edited file
        expected = expected.format(line=line_of(project, "    argoRollouts"))
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "XXXXXXXX" not in result.stderr
    assert not (tmp_path / "out").exists()


def line_of(project: Path, text: str) -> int:
    """The 1-based line of the dev stack file that starts with `text`."""
    lines = (project / "stacks" / "Pulumi.dev.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(text))


def test_stack_config_errors_name_the_file_line_key_value_and_fix(tmp_path):
    project = project_with_dev_text(tmp_path, lambda t: t.replace(
        "  reliability:alerting:\n",
        "  reliability:alertng: {}\n  reliability:retention: {prometheus: 30}\n"
        "  reliability:replicas: {loki: two}\n  reliability:alerting:\n", 1).replace(
        '        ticket: {slack: {channel: "#payments-dev"', '        tickets: {slack: {channel: "#payments-dev"'))
    result = sre("render", "--stack", "dev", "--out", str(tmp_path / "out"), "--project-dir", str(project))
    assert result.returncode == 2, result.stderr
    f = "stacks/Pulumi.dev.yaml"
    payments = line_of(project, "      payments:")
    assert result.stderr.splitlines() == [
        "sre render: invalid config for stack 'dev' (5 problem(s)):",
        # Unknown keys first, each with what was meant: a missing line after is often their consequence.
        f"  {f}:{line_of(project, '  reliability:alertng')}: reliability:alertng: unknown key "
        "(did you mean 'alerting'?)",
        f"  {f}:{payments + 2}: reliability:alerting.teams.payments.tickets: unknown key (did you mean 'ticket'?)",
        # Then by line.
        f"  {f}:{line_of(project, '  reliability:retention')}: reliability:retention.prometheus: expected a "
        "duration with its unit, got 30: write a duration such as 30d",
        f"  {f}:{line_of(project, '  reliability:replicas')}: reliability:replicas.loki: expected a whole number "
        'such as 2, got "two"',
        f"  {f}:{payments}: reliability:alerting.teams.payments: missing ticket: where this team's tickets go "
        "(slack or webhook)",
        f"nothing written to {tmp_path / 'out'}",
    ]


def test_a_misspelt_config_key_of_the_stack_file_is_named_not_its_consequences(tmp_path):
    project = project_with_dev_text(tmp_path, lambda t: t.replace("\nconfig:\n", "\nconfg:\n"))
    result = sre("render", "--stack", "dev", "--out", str(tmp_path / "out"), "--project-dir", str(project))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sre render: invalid config for stack 'dev' (1 problem(s)):",
        f"  stacks/Pulumi.dev.yaml:{line_of(project, 'confg:')}: unknown key 'confg' (did you mean 'config'?): "
        "nothing under it is read",
        f"nothing written to {tmp_path / 'out'}",
    ]


RENDERED = {"resources.json": "[]\n", "manifests/Namespace-_cluster-x.yaml": "kind: Namespace\n",
            "dashboards/x.json": "{}\n", "alertmanager/alertmanager.yaml": "route: {}\n"}


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() if p.is_file() else "<dir>" for p in sorted(folder.rglob("*"))}


def test_render_write_replaces_only_an_empty_folder_or_a_previous_render(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    with pytest.raises(OutputRefused):
        write(RENDERED, str(out))
    (out / "notes.txt").unlink()
    write(RENDERED, str(out))
    assert {k: v for k, v in tree(out).items() if v != "<dir>"} == RENDERED
    (out / "manifests" / "Namespace-_cluster-gone.yaml").write_text("kind: Namespace\n")
    write(RENDERED, str(out))
    assert "manifests/Namespace-_cluster-gone.yaml" not in tree(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(("name", "why"), [
    ("project", "it holds Pulumi.yaml, README.md, resources.json.bak, which this command does not write"),
    ("afile", "it is a file, not a folder, and would be replaced"),
])
def test_render_write_refuses_a_folder_holding_what_it_did_not_write(tmp_path, name, why):
    project = tmp_path / "project"
    (project / "manifests").mkdir(parents=True)
    for file in ("Pulumi.yaml", "README.md", "resources.json.bak"):
        (project / file).write_text("mine\n")
    (tmp_path / "afile").write_text("mine\n")
    before = tree(tmp_path)
    with pytest.raises(OutputRefused) as refused:
        write(RENDERED, str(tmp_path / name))
    assert str(refused.value).startswith(f"refusing to write {tmp_path / name}: {why}")
    assert tree(tmp_path) == before


def test_render_refuses_an_out_folder_with_other_files_before_rendering(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine\n")
    result = sre("render", "--stack", "local", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"sre render: refusing to write {tmp_path}/out: it holds notes.txt, which this command does not write, and "
        "each run replaces the whole folder; nothing was changed: give --out a new or empty folder, or a previous "
        "output (which holds only alertmanager, dashboards, manifests, resources.json)")
    assert result.stdout == ""
    assert tree(tmp_path / "out") == {"notes.txt": "mine\n"}
    repo = sre("render", "--stack", "local", "--out", str(REPO))  # the project itself
    assert repo.returncode == 2
    assert repo.stderr.startswith(f"sre render: refusing to write {REPO}: it is the input {REPO}")
