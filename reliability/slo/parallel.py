"""Forked worker processes for the compiler's large runs: reading specs, generating files.

Fork, not spawn: a worker starts with the parent's loaded specs and modules instead of
importing and pickling them again. `gc.freeze()` before forking moves the parent's objects to
the permanent generation, so a worker's collections neither walk nor copy-on-write the pages
they live on (the advice of Python's gc docs for fork without exec).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def worker_count() -> int:
    """Processes a large run may use: the machine's cores (at most 8), or 1 with SRE_WORKERS=1."""
    if os.environ.get("SRE_WORKERS") == "1":
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def fork_map(fn: Callable[..., T], *iterables: Iterable[Any]) -> list[T]:
    """`fn` over the iterables' items in one forked process each, results in the items' order."""
    columns = [list(items) for items in iterables]
    gc.freeze()
    try:
        with ProcessPoolExecutor(len(columns[0]), mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(fn, *columns))
    finally:
        gc.unfreeze()
