"""Files people own once written: created whole or not at all, never over an existing one."""

from __future__ import annotations

import os
import tempfile


def write_new(path: str, text: str) -> bool:
    """Create `path` with `text`; False (and nothing changed) when it exists already."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".new-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.link(tmp, path)  # atomic, and refuses to replace: someone else's file wins
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True
