"""`sre policy check` output beyond one line per violation: a summary by control family, and SARIF 2.1.0
for GitHub code scanning (one rule per policy, one result per violation, located in the component that
creates the resource)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

from .check import Finding, Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
REPO = Path(__file__).resolve().parents[2]
_COMPONENT = re.compile(r"^reliability:([a-z_]+):")


def summary(report: Report) -> list[str]:
    """One line per control family: `FSBP: 2 mandatory, 1 advisory`, families sorted. A finding counts under
    every family it cites (`[CIS EKS 5.3.1, FSBP EKS.3]` under both), and every family the pack enforces is
    listed, with zeros on a clean run, so a reviewer sees what was checked as well as what failed."""
    from policies.controls import all_families, families

    counts: Counter[tuple[str, bool]] = Counter(
        (fam, f.advisory) for f in report.findings for fam in families(f.message)
    )
    names = sorted(set(all_families()) | {fam for fam, _ in counts})
    return [f"{fam}: {counts[(fam, False)]} mandatory, {counts[(fam, True)]} advisory" for fam in names]


def _location(finding: Finding) -> tuple[str, int]:
    """(repository path, line) of the code that creates the resource: the innermost component module of the
    URN's type chain (`reliability:cluster:Eks` -> components/cluster.py), at the first call of the resource's
    class there; `__main__.py` line 1 when no component module is found."""
    chain = finding.urn.split("::")[2].split("$") if finding.urn.count("::") >= 3 else []
    kind = finding.resource_type.rsplit(":", 1)[-1]
    for typ in reversed(chain):
        match = _COMPONENT.match(typ)
        module = REPO / "components" / f"{match[1]}.py" if match else None
        if module is not None and module.is_file():
            lines = module.read_text(encoding="utf-8").splitlines()
            line = next((i for i, text in enumerate(lines, 1) if f".{kind}(" in text), 1)
            return f"components/{module.name}", line
    return "__main__.py", 1


def _advisory(policy: Any) -> bool:
    return policy.enforcement_level is not None and policy.enforcement_level.value == "advisory"


def to_sarif(report: Report) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log GitHub code scanning accepts (github/codeql-action/upload-sarif)."""
    from policies import POLICIES
    from policies.controls import cited, families, family

    rules = [
        {
            "id": p.name,
            "name": "".join(part.title() for part in p.name.split("-")),
            "shortDescription": {"text": p.description},
            "fullDescription": {"text": p.description},
            "help": {"text": f"{p.description} See docs/policies.md for the controls it enforces."},
            "defaultConfiguration": {"level": "warning" if _advisory(p) else "error"},
            "properties": {"tags": ["security", "policy-as-code"]},
        }
        for p in sorted(POLICIES, key=lambda p: p.name)
    ]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for finding in [*report.mandatory, *report.advisory]:
        uri, line = _location(finding)
        identity = f"{finding.policy}\n{finding.urn or finding.resource_type + ' ' + finding.name}\n{finding.message}"
        results.append(
            {
                "ruleId": finding.policy,
                **({"ruleIndex": index[finding.policy]} if finding.policy in index else {}),
                "level": "warning" if finding.advisory else "error",
                "message": {"text": f"{finding.resource_type} {finding.name}: {finding.message}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": {"startLine": line},
                        },
                        "logicalLocations": [{"name": finding.name, "fullyQualifiedName": finding.urn or finding.name,
                                              "kind": "resource"}],
                    }
                ],
                "partialFingerprints": {"policyFinding/v1": hashlib.sha256(identity.encode()).hexdigest()},
                "properties": {"controls": cited(finding.message), "family": family(finding.message),
                               "families": families(finding.message), "resourceType": finding.resource_type},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sre policy check",
                        "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
