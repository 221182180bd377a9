"""Files written whole: a temporary file next to the target, then a rename.

A reader sees either the old file or the complete new one, never a half-written
one, even when the writer crashes or is interrupted: the data goes to a
temporary file in the target's directory, is flushed to disk, and
``os.replace`` swaps it in. On any error the temporary file is removed and the
target is left as it was. Every file the package writes goes through
``atomic_open``; the temporary names start with a dot and end in ``.tmp``, so
``remove_stale_temporaries`` finds what a killed writer left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_write_text", "remove_stale_temporaries"]


@contextlib.contextmanager
def atomic_open(path: Any, mode: str = "w", prefix: str = ".vgp-") -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it replaces ``path``.

    Args:
        path: the target file.
        mode: "w" (text, UTF-8) or "wb".
        prefix: start of the temporary file's name (hidden by default).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', received {mode!r}")
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file readable by its owner only; a saved file
        # should get the usual permissions.
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Any, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def remove_stale_temporaries(folder: Any) -> int:
    """Delete temporary files an interrupted writer left in ``folder``; return how many."""
    removed = 0
    for stale in Path(folder).glob(".*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed += 1
    return removed
