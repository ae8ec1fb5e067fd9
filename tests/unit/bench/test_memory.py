"""The compile benchmark's memory figure: the process tree's peak, shared pages counted once."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from reliability.bench.memory import PeakMemory, supported, tree_pss_kb

pytestmark = pytest.mark.skipif(not supported(), reason="needs Linux /proc/PID/smaps_rollup")

MB = 1024 * 1024
SHARED_MB = 400


def _hold(seconds: float, allocate_mb: int, ready: multiprocessing.synchronize.Event) -> None:
    block = bytearray(allocate_mb * MB) if allocate_mb else b""  # zero-filled: every page written
    for index in range(0, len(block), 4096):
        block[index] = 1
    ready.set()
    time.sleep(seconds)


def _child(allocate_mb: int) -> tuple[multiprocessing.Process, multiprocessing.synchronize.Event]:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    process = context.Process(target=_hold, args=(1.0, allocate_mb, ready))
    process.start()
    assert ready.wait(10)
    return process, ready


def test_a_childs_own_memory_is_counted() -> None:
    before = tree_pss_kb(os.getpid()) / 1024
    with PeakMemory(interval=0.01) as peak:
        process, _ = _child(120)
        time.sleep(0.2)
        process.join()
    assert peak.mb is not None
    assert peak.mb >= before + 110


# A small Python process of its own (not this test worker, whose heap grows with the tests run before
# and whose pages a forked child would copy as it touches reference counts): it writes a block, says
# so, waits for a line, forks a child that writes none of the block, and waits for it.
_SHARER = """
import os, sys, time
block = bytearray(%d * 1024 * 1024)
for index in range(0, len(block), 4096):
    block[index] = 1
print("ready", flush=True)
sys.stdin.readline()
pid = os.fork()
if pid == 0:
    time.sleep(1.0)
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_pages_a_forked_child_shares_are_counted_once() -> None:
    sharer = subprocess.Popen([sys.executable, "-c", _SHARER % SHARED_MB], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert sharer.stdout is not None and sharer.stdin is not None
        assert sharer.stdout.readline().strip() == "ready"
        alone = tree_pss_kb(sharer.pid) / 1024
        with PeakMemory(sharer.pid, interval=0.01) as peak:
            sharer.stdin.write("fork\n")
            sharer.stdin.flush()
            assert sharer.wait(20) == 0
    finally:
        sharer.kill()
        sharer.wait()
    assert peak.mb is not None
    # Summed RSS would count the block twice (alone + SHARED_MB at least); PSS splits it between
    # the two processes. The child copies the few pages of its own small heap that it touches.
    assert alone >= SHARED_MB
    assert alone <= peak.mb < alone + SHARED_MB / 4
