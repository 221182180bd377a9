"""Writing files whole: a temporary file next to the target, then a rename.

A reader (or a resumed sweep) sees either the old file or the complete new
one, never a half-written one, even when the writer is interrupted. The
temporary names start with a dot and end in ``.tmp``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "remove_stale_temporaries"]

# Text files are written by the package-wide helper.
from .._atomic import atomic_write_text


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed over ``path``.

    On an error (or an interrupt) the temporary file is removed and ``path``
    is left as it was.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> int:
    """Delete temporary files an interrupted writer left in ``folder``; return how many."""
    removed = 0
    for stale in Path(folder).glob(".*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed += 1
    return removed
