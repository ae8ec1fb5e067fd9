"""Peak memory of this process and its descendants, each page counted once.

`ru_maxrss` counts every resident page in every process that maps it: a forked compile worker
shares the parent's interpreter, modules and loaded specs, so main + workers overstates what the
machine spent. The proportional set size (PSS) divides each shared page among its sharers, and
the sum over the process tree is the memory actually in use. Sampled while the work runs; the
largest sum is the peak, within what the sampling interval can see (a spike shorter than it may
be missed). Linux only (`/proc/PID/smaps_rollup`); elsewhere the peak is None.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

SAMPLE_SECONDS = 0.02


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return found


def _pss_kb(pid: int) -> int:
    """The process's PSS in kB; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_kb(root: int) -> int:
    """The summed PSS of `root` and every process below it.

    The tree is listed before any PSS is read: a process that forks between the two reads would
    otherwise count once with its pages unshared and again through the child that now shares them.
    """
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += _children(pid)
    return sum(_pss_kb(pid) for pid in tree)


def supported() -> bool:
    return os.path.exists(f"/proc/{os.getpid()}/smaps_rollup")


class PeakMemory:
    """`with PeakMemory(pid) as peak: ...`, then `peak.mb`: the largest summed PSS of the process
    tree under `pid` (this process by default) seen during the block; None where /proc cannot tell."""

    def __init__(self, root: int | None = None, interval: float = SAMPLE_SECONDS):
        self.root = os.getpid() if root is None else root
        self.interval = interval
        self.mb: float | None = None
        self._peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)

    def _sample(self) -> None:
        while True:
            self._peak_kb = max(self._peak_kb, tree_pss_kb(self.root))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakMemory:
        if supported():
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._peak_kb = max(self._peak_kb, tree_pss_kb(self.root))
            self.mb = self._peak_kb / 1024
