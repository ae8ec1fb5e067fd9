"""`--env` and a spec's `environments:` keys must name an environment that exists (a stack),
so a typo cannot compile prod rules without prod's overrides."""

from __future__ import annotations

from pathlib import Path

from .test_outputs import sre

SPEC = """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: shop
team: payments
runbook_url: https://runbooks.example.com/shop
environments:
  prdo:
    disabled: true
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{code=~"5.."}
        total: http_requests_total
    environments:
      staging:
        objective: 99
      stging:
        objective: 98
"""


def specs(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir(parents=True)
    (folder / "shop.yaml").write_text(SPEC)
    return folder


def test_unknown_env_is_refused_naming_the_stacks_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = sre("slo", "compile", str(specs(tmp_path)), "--out", str(out), "--env", "prdo")
    assert proc.returncode == 2
    assert proc.stderr == (
        "sre slo compile: --env 'prdo' is not one of the stacks in stacks/: dev, local, prod, staging; "
        "pass an existing stack name, or --stacks-dir for another project\n"
    )
    assert not out.exists()
    proc = sre("slo", "validate", str(specs(tmp_path / "v")), "--env", "Prod")
    assert proc.returncode == 2 and "--env 'Prod' is not one of the stacks in stacks/" in proc.stderr


def test_env_names_come_from_the_stacks_dir_or_the_built_in_four(tmp_path: Path) -> None:
    folder = specs(tmp_path)
    stacks = tmp_path / "project" / "stacks"
    stacks.mkdir(parents=True)
    (stacks / "Pulumi.eu-prod.yaml").write_text("config: {}\n")
    ok = sre("slo", "compile", str(folder), "--out", str(tmp_path / "a"), "--env", "eu-prod",
             "--stacks-dir", str(stacks))
    assert ok.returncode == 0, ok.stderr
    refused = sre("slo", "compile", str(folder), "--out", str(tmp_path / "b"), "--env", "prod",
                  "--stacks-dir", str(stacks))
    assert refused.returncode == 2 and f"the stacks in {stacks}/: eu-prod;" in refused.stderr
    # Outside a project (no stack files): the four environments this project ships.
    outside = sre("slo", "compile", str(folder), "--out", str(tmp_path / "c"), "--env", "staging",
                  cwd=tmp_path)
    assert outside.returncode == 0, outside.stderr
    outside = sre("slo", "compile", str(folder), "--out", str(tmp_path / "d"), "--env", "qa", cwd=tmp_path)
    assert outside.returncode == 2
    assert "the built-in environments (no stack files in stacks/): local, dev, staging, prod" in outside.stderr


def test_overrides_for_unknown_environments_warn_with_file_line_and_field(tmp_path: Path) -> None:
    folder = specs(tmp_path)
    proc = sre("slo", "validate", str(folder))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    tail = "among the stacks in stacks/ (dev, local, prod, staging): this override never applies; " \
           "rename it to an existing stack"
    assert lines == [
        f"{folder}/shop.yaml:7: -: environments.prdo: warning: no environment 'prdo' {tail}",
        f"{folder}/shop.yaml:19: availability: slos[0].environments.stging: warning: "
        f"no environment 'stging' {tail}",
    ]
    # The known one (staging) applies; the typo'd one does not.
    out = tmp_path / "out"
    proc = sre("slo", "compile", str(folder), "--out", str(out), "--env", "staging")
    assert proc.returncode == 0 and "stging" in proc.stderr
    rules = (out / "rules" / "shop.yaml").read_text()
    assert "record: slo:objective:ratio\n        expr: vector(0.99)\n" in rules
    assert "vector(0.98)" not in rules and "vector(0.999)" not in rules
