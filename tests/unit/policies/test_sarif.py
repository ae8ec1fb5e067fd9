"""`sre policy check --format sarif`: a SARIF 2.1.0 log shaped as GitHub code scanning requires
(docs.github.com, "SARIF support for code scanning": version, runs[].tool.driver with rules, results with
ruleId, message.text and a physical location in the repository with a start line)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reliability.cli import main

from .test_check import Resources, one, write

REPO = Path(__file__).resolve().parents[3]


def sarif(capsys: pytest.CaptureFixture[str], directory: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    code = main(["policy", "check", str(directory), "--format", "sarif", *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else {}, err


def assert_code_scanning_shape(log: dict[str, Any]) -> None:
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert isinstance(driver["name"], str) and driver["name"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning") and result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        path = REPO / physical["artifactLocation"]["uri"]
        assert not Path(physical["artifactLocation"]["uri"]).is_absolute() and path.is_file()
        assert 1 <= physical["region"]["startLine"] <= len(path.read_text(encoding="utf-8").splitlines())
        assert all(isinstance(v, str) and v for v in result["partialFingerprints"].values())


def test_a_clean_render_gives_an_empty_but_valid_log(render_dir: Callable[[str], Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, log, err = sarif(capsys, render_dir("local"))
    assert code == 0
    assert_code_scanning_shape(log)
    assert log["runs"][0]["results"] == []
    assert "0 mandatory and 0 advisory" in err
    assert [line for line in err.splitlines() if line.startswith("by control family: ")] == [
        f"by control family: {fam}: 0 mandatory, 0 advisory"
        for fam in ("CIS EKS", "FSBP", "Grafana", "PSS", "RAC", "Security Hub")]


def test_violations_become_results_located_where_the_resource_is_made(
    render_resources: Callable[[str], Resources], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resources = render_resources("prod")
    del one(resources, "aws:eks/cluster:Cluster")["inputs"]["encryptionConfig"]
    directory = write(tmp_path, resources)
    code, log, err = sarif(capsys, directory)
    assert code == 1
    assert_code_scanning_shape(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert sorted(results) == ["eks-endpoint-private", "eks-secrets-encrypted", "vpc-flow-logs"]
    failed = results["eks-secrets-encrypted"]
    assert failed["level"] == "error" and results["vpc-flow-logs"]["level"] == "warning"
    assert failed["properties"]["controls"] == ["CIS EKS 5.3.1", "FSBP EKS.3"]
    assert failed["properties"]["family"] == "CIS EKS"
    assert failed["properties"]["families"] == ["CIS EKS", "FSBP"]
    physical = failed["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "components/cluster.py"
    line = (REPO / "components" / "cluster.py").read_text().splitlines()[physical["region"]["startLine"] - 1]
    assert "aws.eks.Cluster(" in line
    # eks-secrets-encrypted cites CIS EKS and FSBP, eks-endpoint-private too, vpc-flow-logs FSBP alone: each
    # finding counts under every family it cites.
    assert "by control family: CIS EKS: 1 mandatory, 1 advisory" in err.splitlines()
    assert "by control family: FSBP: 1 mandatory, 2 advisory" in err.splitlines()
    # The same render gives the same log, byte for byte; --output writes it to a file instead.
    out = tmp_path / "policy.sarif"
    assert main(["policy", "check", str(directory), "--format", "sarif", "--output", str(out)]) == 1
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text()) == log
