"""The control map (policies/controls.yaml): every policy it names exists at the level it says, the docs show it."""

from __future__ import annotations

from pathlib import Path

from policies import POLICIES
from policies.controls import catalogue, cited, family, markdown

REPO = Path(__file__).resolve().parents[3]


def test_docs_show_the_control_map_as_it_is() -> None:
    docs = (REPO / "docs" / "policies.md").read_text(encoding="utf-8")
    inside = docs.split("<!-- controls:begin -->\n", 1)[1].split("<!-- controls:end -->", 1)[0]
    assert inside == markdown(), "regenerate the table with `.venv/bin/python -m policies.controls`"


def test_every_mapped_policy_exists_at_the_level_the_map_says() -> None:
    by_name = {p.name: p for p in POLICIES}
    controls, unenforced = catalogue()
    for control in controls:
        policy = by_name[control.policy]
        on = {level for level in control.levels.values() if level != "off"}
        assert on == {policy.enforcement_level.value}, control
    enforced = {c.id for c in controls}
    assert not enforced & {u.id for u in unenforced}


def test_messages_name_their_family() -> None:
    assert cited("[CIS EKS 5.3.1, FSBP EKS.3] x") == ["CIS EKS 5.3.1", "FSBP EKS.3"]
    assert family("[CIS EKS 5.3.1, FSBP EKS.3] x") == "CIS EKS"
    assert family("[Grafana security.cookie_secure] x") == "Grafana"
    assert family("values.query.resources sets no limits.memory") == "RAC"
