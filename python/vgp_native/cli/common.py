"""Pieces shared by the ``vgp-native`` subcommands: errors, parsing, tables, files, progress."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from .._atomic import atomic_open, atomic_write_text

__all__ = [
    "CliError",
    "Progress",
    "atomic_open",
    "atomic_write_text",
    "csv_text",
    "flag_message",
    "format_table",
    "int_list",
    "non_negative_int",
    "output_dir",
    "positive_float",
    "positive_int",
    "save_figure",
    "str_list",
]


class CliError(Exception):
    """A usage or data error: reported as one line on stderr, exit status 2."""


def _int_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, received {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0)


def flag_message(message: str, flags: dict[str, str]) -> str:
    """Name the flags in an error message about configuration keys.

    ``flags`` maps configuration keys to flags, e.g. ``{"depth": "--depth"}``;
    ``config['depth']`` in ``message`` becomes ``--depth``.
    """
    for key, flag in flags.items():
        message = message.replace(f"config[{key!r}]", flag)
    return message


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, received {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, received {text!r}")
    return value


def split_list(text: str) -> list[str]:
    """Split ``a,b,c`` on commas outside parentheses; blanks are dropped."""
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def str_list(text: str) -> list[str]:
    """argparse type: a comma-separated list of names."""
    items = split_list(text)
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, received {text!r}")
    return items


def int_list(text: str) -> list[int]:
    """argparse type: a comma-separated list of integers >= 1."""
    return [positive_int(item) for item in str_list(text)]


def output_dir(path: str) -> Path:
    """Create the output directory (and parents); a one-line error when impossible."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the output directory {path}: {exc.strerror}") from None
    return out


def save_figure(fig: Any, path: Path, dpi: int = 110) -> None:
    """Save a matplotlib figure atomically (format from the suffix), then close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text with a header (floats in full precision)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def format_table(
    rows: Sequence[Sequence[Any]], header: Sequence[str], align: str | None = None
) -> str:
    """An aligned plain-text table; ``align`` has one "l" or "r" per column."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    align = align or "l" * len(header)
    lines = []
    for k, row in enumerate(cells):
        parts = [
            c.ljust(w) if a == "l" else c.rjust(w)
            for c, w, a in zip(row, widths, align, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Progress:
    """A plain-text progress bar on stderr.

    On a terminal one line is redrawn in place; otherwise (a pipe, a log file,
    CI) each step prints its own line, so the output stays readable.
    """

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 24) -> None:
        self.total = max(int(total), 1)
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.t0 = time.perf_counter()
        isatty: Callable[[], bool] | None = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._open = False

    def update(self, done: int, text: str = "") -> None:
        """Show ``done`` of ``total`` finished, with a note on the latest step."""
        frac = min(max(done / self.total, 0.0), 1.0)
        filled = round(self.width * frac)
        elapsed = time.perf_counter() - self.t0
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {done}/{self.total} {frac:4.0%} {elapsed:5.1f}s"
        if text:
            line += f"  {text}"
        if self.tty:
            cols = 120
            with contextlib.suppress(OSError):
                cols = os.get_terminal_size(self.stream.fileno()).columns
            self.stream.write("\r" + line[: cols - 1].ljust(cols - 1))
            self._open = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the in-place line (on a terminal)."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
