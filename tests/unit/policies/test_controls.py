"""The control map (policies/controls.yaml): every policy it names exists at the level it says, the docs show it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from policies import POLICIES
from policies.controls import catalogue, cited, families, family, markdown

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
    assert families("[CIS EKS 5.3.1, FSBP EKS.3] x") == ["CIS EKS", "FSBP"]
    assert families("[CIS EKS 4.2.1, CIS EKS 4.2.2, PSS baseline] x") == ["CIS EKS", "PSS"]
    assert families("[Security Hub KMS.4] x") == ["Security Hub"]
    assert families("no control cited") == ["RAC"]


# A control id as messages cite it: `cite("CIS EKS 4.2.1")`, a constant ("FSBP EC2.8"), a tuple of them.
_CONTROL_ID = re.compile(
    r"(CIS EKS \d+(?:\.\d+)+|FSBP \w+\.\d+|Security Hub \w+\.\d+|PSS (?:baseline|restricted)"
    r"|Grafana [a-z_.]+(?: credentials)?|RAC \w+\.\w+)"
)
_POLICY_TYPES = ("ResourceValidationPolicy", "StackValidationPolicy")


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _cited_in_source() -> set[tuple[str, str]]:
    """(policy, control id) for every control id a policy's validate function can put in a message: the ids in
    the function, in the module's functions it calls and in the module constants they read."""
    pairs: set[tuple[str, str]] = set()
    for path in sorted((REPO / "policies").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined: dict[str, ast.AST] = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                defined[node.name] = node
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        defined[target.id] = node.value
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in _POLICY_TYPES):
                continue
            keywords = {k.arg: k.value for k in call.keywords}
            name, validate = keywords["name"], keywords["validate"]
            assert isinstance(name, ast.Constant) and isinstance(validate, ast.Name), path
            seen, todo = set(), [validate.id]
            while todo:
                current = todo.pop()
                if current in seen or current not in defined:
                    continue
                seen.add(current)
                todo += _names(defined[current])
            for current in seen:
                for node in ast.walk(defined[current]):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _CONTROL_ID.fullmatch(
                        node.value
                    ):
                        pairs.add((name.value, node.value))
    return pairs


def test_every_control_a_policy_cites_is_in_the_map() -> None:
    cited_pairs = _cited_in_source()
    mapped = {(c.policy, c.id) for c in catalogue()[0]}
    assert ("pod-security-restricted", "CIS EKS 4.2.2") in cited_pairs  # the walk finds ids held in constants
    assert sorted(cited_pairs - mapped) == []
    # ...and the map claims no control a policy never cites.
    assert sorted(mapped - cited_pairs) == []


def test_map_ids_are_well_formed() -> None:
    for c in catalogue()[0]:
        assert _CONTROL_ID.fullmatch(c.id), c.id
        assert c.family == c.id.split(" ")[0] or c.id.startswith(c.family), c


def test_docs_and_pack_header_name_every_policy_module() -> None:
    modules = sorted(p.name for p in (REPO / "policies").glob("*.py")
                     if re.search(r"^POLICIES = ", p.read_text(encoding="utf-8"), re.MULTILINE))
    assert len(modules) == 10
    docs = (REPO / "docs" / "policies.md").read_text(encoding="utf-8")
    header = "".join(line for line in (REPO / "policies" / "PulumiPolicy.yaml").read_text(encoding="utf-8")
                     .splitlines(keepends=True) if line.startswith("#"))
    assert [m for m in modules if f"| `{m}` |" not in docs] == []
    assert [m for m in modules if m not in header] == []
