"""What `sre slo compile` writes: PrometheusRules valid for the operator's CRD, dashboards, atomic and complete output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ...crds import validate_custom_resource
from .helpers import EXAMPLES, REPO, compile_examples


def sre(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reliability", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, check=False)


def test_prometheusrules_validate_against_the_crd() -> None:
    output = compile_examples()
    crs = [yaml.safe_load(t) for f, t in output.files.items() if f.startswith("prometheusrules/")]
    assert len(crs) == 4
    for cr in crs:
        assert validate_custom_resource(cr) == []
        assert cr["metadata"]["labels"]["app.kubernetes.io/part-of"] == "reliability-as-code"
    # The wrapped groups are exactly the plain rule file's groups.
    for name, text in output.files.items():
        if name.startswith("prometheusrules/"):
            plain = yaml.safe_load(output.files[name.replace("prometheusrules/", "rules/")])
            assert yaml.safe_load(text)["spec"] == plain


def test_compile_writes_rules_crs_tests_and_dashboards(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = sre("slo", "compile", "slo-specs", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    services = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
    for folder in ("rules", "prometheusrules", "tests"):
        assert [f for f in files if f.startswith(folder + "/")] == [f"{folder}/{s}.yaml" for s in services]
    expected = sorted([f"dashboards/slo-{s}.json" for s in services] + ["dashboards/slos-overview.json"])
    assert [f for f in files if f.startswith("dashboards/")] == expected
    assert json.loads((out / "dashboards" / "slo-checkout-api.json").read_text())["uid"] == "slo-checkout-api"


def test_invalid_input_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "specs"
    bad.mkdir()
    (bad / "good.yaml").write_text((EXAMPLES / "checkout-api.yaml").read_text())
    (bad / "bad.yaml").write_text((EXAMPLES / "order-worker.yaml").read_text().replace("objective: 99.9", "objective: 120"))
    out = tmp_path / "out"
    proc = sre("slo", "compile", str(bad), "--out", str(out))
    assert proc.returncode == 2
    assert "objective: must be greater than 0 and less than 100" in proc.stderr
    assert proc.stderr.strip().endswith(f"1 problem(s): nothing written to {out}")
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["specs"]  # no staging folder left behind either
    # An existing output stays as it was.
    out.mkdir()
    (out / "keep.txt").write_text("previous run")
    assert sre("slo", "compile", str(bad), "--out", str(out)).returncode == 2
    assert sorted(os.listdir(out)) == ["keep.txt"]


def test_a_valid_run_replaces_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "rules").mkdir(parents=True)
    (out / "rules" / "removed-service.yaml").write_text("groups: []\n")
    assert sre("slo", "compile", "slo-specs", "--out", str(out)).returncode == 0
    assert not (out / "rules" / "removed-service.yaml").exists()
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    def snapshot(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    assert sre("slo", "compile", "slo-specs", "--out", str(tmp_path / "a")).returncode == 0
    assert sre("slo", "compile", "slo-specs", "--out", str(tmp_path / "b")).returncode == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_slo_test_without_promtool_says_what_to_install(tmp_path: Path) -> None:
    assert sre("slo", "compile", "slo-specs", "--out", str(tmp_path / "out")).returncode == 0
    env = dict(os.environ, PATH=str(tmp_path))  # no promtool here
    proc = sre("slo", "test", str(tmp_path / "out"), env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("promtool not found on PATH: install Debian's prometheus package "
                                   "(apt-get install prometheus), which ships promtool")


def test_an_output_folder_that_cannot_be_written_is_named_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder\n")
    proc = sre("slo", "compile", "slo-specs", "--out", str(tmp_path / "file" / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"sre: cannot write {tmp_path}/file/out: File exists; it is left as it was"
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_slo_test_refuses_a_folder_that_is_not_a_compile_output(tmp_path: Path) -> None:
    missing = sre("slo", "test", str(tmp_path / "out"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == (f"{tmp_path}/out: no such folder: write it with "
                                      f"`sre slo compile SPECS --out {tmp_path}/out`")
    wrong = sre("slo", "test", "slo-specs")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == ("slo-specs: no rules/*.yaml, so not an `sre slo compile` output: "
                                    "give the folder that was passed to --out")
    assert missing.stdout == wrong.stdout == ""


def test_slo_test_passes_an_empty_compile(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()  # what a compile writes when every SLO is disabled in that env
    proc = sre("slo", "test", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"nothing to test: {tmp_path}/out is empty (a compile in which no SLO is enabled)"


def test_a_parallel_compile_writes_exactly_what_one_process_writes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from reliability.bench.compile import write_specs
    from reliability.slo import compile as compiler

    specs = tmp_path / "specs"
    specs.mkdir()
    write_specs(str(specs), 4 * compiler.PARALLEL_FROM)  # enough services for workers
    result, parallel = compiler.compile_paths([str(specs)])
    assert parallel is not None
    assert compiler._workers(result.services) > 1 or len(os.sched_getaffinity(0)) == 1
    monkeypatch.setenv("SRE_WORKERS", "1")
    _, serial = compiler.compile_paths([str(specs)])
    assert serial is not None
    assert list(parallel.files) == list(serial.files)  # same names, same order
    assert parallel.files == serial.files


SLOTH_SPEC = """\
version: prometheus/v1
service: sloth-svc
slos:
  - name: requests-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="sloth",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="sloth"}[{{.window}}]))
    alerting:
      name: SlothAvailability
"""


def test_specs_read_in_workers_load_exactly_as_in_one_process(tmp_path: Path) -> None:
    from reliability.bench.compile import write_specs
    from reliability.slo.load import PARALLEL_FILES_PER_WORKER, load

    specs = tmp_path / "specs"
    specs.mkdir()
    write_specs(str(specs), 4 * 3 * PARALLEL_FILES_PER_WORKER)  # enough files for three workers
    first, last = sorted(specs.iterdir())[0], sorted(specs.iterdir())[-1]
    # A problem in the first worker's files, one in the last's, and a service defined in both.
    first.write_text(first.read_text().replace("objective: 99.9", "objective: 0.999", 1))
    (specs / "zz-copy.yaml").write_text(first.read_text().replace("objective: 0.999", "objective: 99.9"))
    last.write_text(last.read_text().replace("threshold: 300ms", "threshold: 300", 1))
    (specs / "zz-sloth.yaml").write_text(SLOTH_SPEC)  # another format in the same run
    serial = load([str(specs)], workers=1)
    parallel = load([str(specs)], workers=3)
    assert len(serial.problems.errors) >= 3
    assert [str(p) for p in parallel.problems] == [str(p) for p in serial.problems]
    assert parallel.services == serial.services
    assert parallel.files == serial.files
    assert parallel.environment_refs == serial.environment_refs


def test_an_environment_that_disables_every_slo_compiles_to_an_empty_folder(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "flags.yaml").write_text((EXAMPLES / "feature-flags.yaml").read_text())  # disabled in local
    out = tmp_path / "out"
    (out / "rules").mkdir(parents=True)
    (out / "rules" / "stale.yaml").write_text("groups: []\n")
    proc = sre("slo", "compile", str(specs), "--out", str(out), "--env", "local")
    assert proc.returncode == 0, proc.stderr
    assert "warning: no SLO is enabled for environment 'local'" in proc.stderr
    assert list(out.iterdir()) == []


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file and folder under `folder`, with the bytes of the files."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*"))}


REFUSED = "sre slo compile: refusing to write {out}: {why}; nothing was changed: "
OWN_FOLDER = "give --out a folder of its own"
NEW_FOLDER = "give --out a new or empty folder"


@pytest.mark.parametrize(("out", "why", "fix"), [
    ("specs", "it is the input specs, and each run replaces the whole folder", OWN_FOLDER),
    (".", "it holds the input specs, and each run replaces the whole folder", OWN_FOLDER),
    ("notes", "it holds notes.txt, which this command does not write, and each run replaces the whole folder",
     NEW_FOLDER + ", or a previous output (which holds only canary, dashboards, gamedays, loadtests, prometheusrules, rules, tests)"),
    ("afile", "it is a file, not a folder, and would be replaced", NEW_FOLDER),
])
def test_an_output_folder_that_holds_other_files_is_refused_untouched(tmp_path: Path, out: str, why: str,
                                                                      fix: str) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "checkout-api.yaml").write_text((EXAMPLES / "checkout-api.yaml").read_text())
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "notes.txt").write_text("mine\n")
    (tmp_path / "notes" / "rules").mkdir()  # a previous output's folder does not make the rest safe
    (tmp_path / "afile").write_text("not a folder\n")
    before = snapshot(tmp_path)
    proc = sre("slo", "compile", "specs", "--out", out, "--stacks-dir", str(REPO / "stacks"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == REFUSED.format(out=out, why=why) + fix
    assert proc.stdout == ""
    assert snapshot(tmp_path) == before


def test_an_input_inside_a_previous_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "rules").mkdir(parents=True)
    spec = out / "rules" / "checkout-api.yaml"
    spec.write_text((EXAMPLES / "checkout-api.yaml").read_text())
    proc = sre("slo", "compile", str(spec), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip() == REFUSED.format(out=out, why=f"it holds the input {spec}, and each run replaces "
                                                 "the whole folder") + OWN_FOLDER
    assert snapshot(out) == {"rules": b"<dir>", "rules/checkout-api.yaml": spec.read_bytes()}


def test_a_refused_output_folder_is_written_once_emptied(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert sre("slo", "compile", "slo-specs", "--out", str(out)).returncode == 2
    (out / "notes.txt").unlink()
    proc = sre("slo", "compile", "slo-specs", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == ["canary", "dashboards", "gamedays", "loadtests", "prometheusrules", "rules", "tests"]


def test_the_output_does_not_depend_on_how_the_input_path_is_spelled(tmp_path: Path) -> None:
    spellings = ["slo-specs", "./slo-specs/", "slo-specs//", "slo-specs/../slo-specs"]
    for index, spelling in enumerate(spellings):
        assert sre("slo", "compile", spelling, "--out", str(tmp_path / str(index))).returncode == 0
    first = snapshot(tmp_path / "0")
    assert first["rules/checkout-api.yaml"].startswith(b"# Generated by `sre slo compile` from slo-specs/checkout-api.yaml.")
    for index in range(1, len(spellings)):
        assert snapshot(tmp_path / str(index)) == first, spellings[index]
