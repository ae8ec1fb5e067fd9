"""`sre bench rules`: the evaluation cost of our rules against Sloth's for the same SLOs.

The measurement is the shared tool `tools/rule-cost.py`: it compiles Sloth-format specs with our
compiler and runs both rule sets through `promtool test rules` over the same synthetic traffic,
printing CPU seconds and `ratio R` (each side the best of two). One run varies by several per cent
on a shared 2-core machine, so this runs it a few times and reports every run and their median: the
figure the README quotes, and the one the goal (at most half of Sloth's) is judged on.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GOAL = 0.5  # at most half of Sloth's CPU for the same SLOs
TOOL = Path("tools", "rule-cost.py")
SPECS = Path("reference", "sloth", "examples", "_gen", "getting-started.yml")
# "3 SLOs, 48h at 1m: ours 17.62s CPU (66 rules), Sloth 35.57s CPU (51 rules)", then "ratio 0.50".
_CPU = re.compile(r"ours ([0-9.]+)s CPU \((\d+) rules\), Sloth ([0-9.]+)s CPU \((\d+) rules\)")
_RATIO = re.compile(r"^ratio ([0-9.]+)$", re.MULTILINE)


class BenchError(RuntimeError):
    """A run printed no figures (the compile or promtool failed: its last lines are in the message)."""


class ToolMissing(BenchError):
    """The shared tool or its specs are not where --shared points."""


@dataclass(frozen=True)
class Run:
    ours_seconds: float
    ours_rules: int
    sloth_seconds: float
    sloth_rules: int

    @property
    def ratio(self) -> float:
        # From the CPU seconds, not the tool's two-decimal `ratio` line: 0.496 and 0.504 both print 0.50.
        return self.ours_seconds / self.sloth_seconds


@dataclass(frozen=True)
class RuleCost:
    runs: tuple[Run, ...]

    @property
    def median(self) -> float:
        return statistics.median(run.ratio for run in self.runs)

    @property
    def met(self) -> bool:
        return self.median <= GOAL


def parse(output: str) -> Run:
    """One run's figures from the tool's output; BenchError names what is missing."""
    cpu = _CPU.search(output)
    if cpu is None or _RATIO.search(output) is None:
        tail = output.strip().splitlines()[-3:]
        raise BenchError(f"rule-cost.py printed no CPU figures and ratio: {' / '.join(tail) or '(nothing)'}")
    return Run(float(cpu.group(1)), int(cpu.group(2)), float(cpu.group(3)), int(cpu.group(4)))


def tool_paths(shared: Path) -> tuple[Path, Path]:
    tool, specs = shared / TOOL, shared / SPECS
    for path in (tool, specs):
        if not path.is_file():
            raise ToolMissing(f"{path} not found: give --shared the folder that holds tools/ and reference/")
    return tool, specs


def bench(shared: Path, sre: str, runs: int, services: int, hours: int,
          progress: Callable[[str], None] = lambda line: None) -> RuleCost:
    """Run the shared tool `runs` times, one after the other, each in a fresh work folder; `progress`
    gets a line per run as it ends (a run takes about two minutes at the defaults)."""
    tool, specs = tool_paths(shared)
    results = []
    for index in range(runs):
        with tempfile.TemporaryDirectory(prefix="sre-bench-rules-") as work:
            command = [sys.executable, str(tool), sre, str(specs), work, str(services), str(hours)]
            # The tool exits 1 when its ratio is over 0.5: that is a figure, not a failure.
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        results.append(parse(done.stdout + done.stderr))
        progress(f"run {index + 1}/{runs}: {describe(results[-1])}")
    return RuleCost(tuple(results))


def describe(run: Run) -> str:
    return (f"ours {run.ours_seconds:.2f} s CPU ({run.ours_rules} rules), Sloth {run.sloth_seconds:.2f} s CPU "
            f"({run.sloth_rules} rules): ratio {run.ratio:.3f}")
