"""The compile benchmark's memory figure: the process tree's peak, shared pages counted once."""

from __future__ import annotations

import multiprocessing
import os
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


def test_pages_a_forked_child_shares_are_counted_once() -> None:
    shared = bytearray(SHARED_MB * MB)
    for index in range(0, len(shared), 4096):
        shared[index] = 1
    alone = tree_pss_kb(os.getpid()) / 1024
    with PeakMemory(interval=0.01) as peak:
        process, _ = _child(0)  # maps the block and writes none of it
        time.sleep(0.2)
        process.join()
    assert peak.mb is not None
    # Summed RSS would count the block twice (alone + SHARED_MB at least); PSS splits it between
    # the two processes. The child does copy the pages of Python objects whose reference counts
    # it touches (this test process's heap, some tens of MB), hence the wide margin.
    assert alone <= peak.mb < alone + SHARED_MB / 2
    del shared
