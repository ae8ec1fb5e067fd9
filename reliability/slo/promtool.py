"""Run the real promtool on a compiled folder (`sre slo test`)."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import yaml

INSTALL_HINT = "install Debian's prometheus package (apt-get install prometheus), which ships promtool"


class PromtoolMissing(RuntimeError):
    pass


class NotCompiled(ValueError):
    """The folder given to `sre slo test` is not an `sre slo compile` output."""


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        raise PromtoolMissing(f"promtool not found on PATH: {INSTALL_HINT}")
    return path


def _run(args: list[str], cwd: str | None = None) -> tuple[bool, str]:
    proc = subprocess.run(args, capture_output=True, text=True, cwd=cwd, check=False)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def check_rules(files: list[str]) -> tuple[bool, str]:
    return _run([promtool(), "check", "rules", *files])


def test_rules(files: list[str]) -> tuple[bool, str]:
    """`promtool test rules`, one process per file, two at a time."""
    tool = promtool()
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        results = list(pool.map(lambda f: _run([tool, "test", "rules", os.path.basename(f)],
                                                cwd=os.path.dirname(f) or "."), files))
    ok = all(r[0] for r in results)
    report = "\n".join(f"{f}: {'SUCCESS' if r[0] else 'FAILED'}" + ("" if r[0] else f"\n{r[1]}")
                       for f, r in zip(files, results, strict=True))
    return ok, report


# Rule groups are `slo:<service>:<slo>:sli`; generated tests are named `<service>/<slo>: <scenario>`.
_SLI_GROUP = re.compile(r"^slo:([^:]+):([^:]+):sli$")
_TEST_NAME = re.compile(r"^([^/:]+)/([^:]+):")


def untested(rule_files: list[str], test_files: list[str]) -> list[str]:
    """`service/slo` of every SLO in the rule files that no generated scenario test exercises."""
    def names(files: list[str], key: str, pattern: re.Pattern[str]) -> set[str]:
        found = set()
        for path in files:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
            for item in data.get(key) or [] if isinstance(data, dict) else []:
                match = pattern.match(str(item.get("name", ""))) if isinstance(item, dict) else None
                if match:
                    found.add(f"{match.group(1)}/{match.group(2)}")
        return found

    return sorted(names(rule_files, "groups", _SLI_GROUP) - names(test_files, "tests", _TEST_NAME))


def run_checks(out_dir: str) -> tuple[bool, str]:
    """promtool check + test on a compile output; raises NotCompiled on any other folder."""
    if not os.path.isdir(out_dir):
        raise NotCompiled(f"{out_dir}: no such folder: write it with `sre slo compile SPECS --out {out_dir}`")
    rule_files = sorted(glob.glob(os.path.join(out_dir, "rules", "*.yaml")))
    test_files = sorted(glob.glob(os.path.join(out_dir, "tests", "*.yaml")))
    if not rule_files:
        if os.listdir(out_dir):
            raise NotCompiled(f"{out_dir}: no rules/*.yaml, so not an `sre slo compile` output: "
                              "give the folder that was passed to --out")
        return True, f"nothing to test: {out_dir} is empty (a compile in which no SLO is enabled)"
    ok_check, check_report = check_rules(rule_files)
    ok_test, test_report = test_rules(test_files) if test_files else (True, "no generated tests")
    summary = (f"promtool check rules: {len(rule_files)} file(s) {'ok' if ok_check else 'FAILED'}\n"
               f"promtool test rules: {len(test_files)} file(s) {'ok' if ok_test else 'FAILED'}")
    missing = untested(rule_files, test_files)
    if missing:
        # Passing tests say nothing about these: name them, as compile's warnings did.
        summary += (f"\nwarning: no scenario tests for {len(missing)} SLO(s): {', '.join(missing)} "
                    "(`sre slo compile` printed why for each)")
    return ok_check and ok_test, "\n".join(x for x in (check_report if not ok_check else "", test_report, summary) if x)
