"""`sre plan check` on preview digests shaped like `pulumi preview --json --show-replacement-steps` output.

The fixtures in previews/ are written by hand after the engine's digest (config, steps with
op/urn/oldState/newState/replaceReasons, changeSummary); each holds one situation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reliability.cli import main

from .conftest import resources

PREVIEWS = Path(__file__).with_name("previews")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["plan", "check", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def engine_urn(entry: dict, by_urn: dict) -> str:
    """The URN the engine gives a rendered resource: every ancestor's type but the stack's, then its own."""
    types = []
    node = entry
    while node is not None and node["type"] != "pulumi:pulumi:Stack":
        types.append(node["type"])
        node = by_urn.get(node["parent"])
    return f"urn:pulumi:prod::reliability::{'$'.join(reversed(types))}::{entry['name']}"


def test_the_safe_preview_is_what_this_program_plans_for_a_routing_change_in_prod():
    """prod-safe.json holds steps of this program's prod stack, as the engine would write them.

    A routing change updates the Alertmanager Secrets in place (their provider makes Secrets
    mutable); a chart upgrade is an update of its Release; a new SLO creates its rules.
    """
    digest = json.loads((PREVIEWS / "prod-safe.json").read_text())
    by_urn = {r["urn"]: r for r in resources("prod")}
    registered = {engine_urn(r, by_urn): r for r in resources("prod")}
    ops = {}
    for step in digest["steps"]:
        entry = registered[step["urn"]]
        provider = by_urn[entry["options"]["provider"]]
        assert step["provider"].rsplit("::", 1)[0] == engine_urn(provider, by_urn)
        for state in (step.get("oldState"), step.get("newState")):
            if state:
                assert (state["type"], state["urn"], state["parent"]) == (
                    entry["type"], step["urn"], engine_urn(by_urn[entry["parent"]], by_urn))
                assert state["inputs"].get("metadata", {}) == entry["inputs"].get("metadata", {})
        if entry["type"] == "kubernetes:core/v1:Secret":
            assert provider["inputs"]["enableSecretMutable"] == "true"
            assert "immutable" not in entry["inputs"]
        ops[entry["inputs"].get("metadata", {}).get("name") or entry["name"]] = step["op"]
    assert ops == {"alertmanager-config": "update", "alertmanager-credentials": "update",
                   "reliability-metrics-kps": "update", "slo-search-api": "create"}


def test_a_node_group_replacement_in_prod_waits_for_review(capsys):
    code, out, err = run(capsys, str(PREVIEWS / "prod-node-group-replaced.json"))
    assert code == 1
    assert out == [
        "replace aws:eks/nodeGroup:NodeGroup reliability-cluster-system (replace reasons: instanceTypes): "
        "a node group: its nodes are drained and their pods rescheduled"
    ]
    assert "1 step(s) in prod replace or delete stateful resources" in err


def test_a_reviewed_step_is_allowed_by_name_and_a_typo_is_reported(capsys):
    code, out, err = run(
        capsys, str(PREVIEWS / "prod-node-group-replaced.json"),
        "--allow", "reliability-cluster-system", "--allow", "reliability-cluster-sytem",
    )
    assert code == 0
    assert out[0].startswith("allowed: replace aws:eks/nodeGroup:NodeGroup reliability-cluster-system")
    assert "--allow reliability-cluster-sytem matches no stateful step of this preview" in err


def test_the_alertmanager_config_deleted_before_its_replacement_blocks(capsys):
    code, out, _ = run(capsys, str(PREVIEWS / "prod-alertmanager-config-deleted-first.json"))
    assert code == 1
    assert out == [
        "delete-replaced kubernetes:core/v1:Secret reliability-slos-alertmanager-config: the Alertmanager config "
        "is deleted before its replacement exists: alerts stop routing in between"
    ]


def test_a_protected_bucket_replaced_in_staging_is_named_with_why(capsys):
    code, out, _ = run(capsys, str(PREVIEWS / "staging-bucket-replaced.json"))
    assert code == 1
    # The chart upgrade in the same preview is an in-place update: not listed.
    assert out == [
        "replace aws:s3/bucket:Bucket reliability-storage-loki (replace reasons: bucket): a bucket and every "
        "object in it; protected: the engine refuses it until `protect` is lifted, so decide before merging"
    ]


def test_updates_and_create_first_replacements_pass(capsys):
    code, out, err = run(capsys, str(PREVIEWS / "prod-safe.json"))
    assert (code, out) == (0, [])
    assert "no step blocks the change in prod" in err


def test_dev_lists_but_never_blocks(capsys):
    code, out, err = run(capsys, str(PREVIEWS / "dev-node-group-replaced.json"))
    assert code == 0
    assert len(out) == 2
    assert out[0].startswith("replace aws:eks/nodeGroup:NodeGroup reliability-cluster-system ")
    assert out[1] == (
        "replace kubernetes:apps/v1:Deployment reliability-grafana-grafana:monitoring/grafana (replace reasons: "
        "spec.selector): a workload whose pods mount a volume claim"
    )
    assert "dev is not reviewed" in err
    # The same preview judged as prod blocks on both.
    code, out, _ = run(capsys, str(PREVIEWS / "dev-node-group-replaced.json"), "--env", "prod")
    assert code == 1 and len(out) == 2


def test_a_replacement_whose_order_is_not_shown_is_not_trusted(capsys, tmp_path):
    digest = json.loads((PREVIEWS / "prod-alertmanager-config-deleted-first.json").read_text())
    digest["steps"] = [s for s in digest["steps"] if s["op"] == "replace"]
    (tmp_path / "p.json").write_text(json.dumps(digest))
    code, out, _ = run(capsys, str(tmp_path / "p.json"))
    assert code == 1
    assert out[0].endswith("run `pulumi preview --json --show-replacement-steps`")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "p.json: no such file: write it with `pulumi preview --json > "),
        ("Previewing update (prod)\n{", "p.json: not JSON (Expecting value: line 1 column 1 (char 0)): give the "
         "output of `pulumi preview --json` alone"),
        ('{"steps": {}}', "p.json: not a preview: expected an object with `steps`"),
        ('{"steps": [{"op": "explode", "urn": "u"}]}', "p.json: steps[0]: not a preview step (needs `op`, one of "),
        ('{"steps": []}', "p.json: config has no reliability:environment: pass --env"),
    ],
)
def test_bad_input_names_the_file_and_exits_2(capsys, tmp_path, content, message):
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, [])
    assert err.startswith("sre plan check: ") and message in err and "Traceback" not in err
