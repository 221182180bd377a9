"""Pieces shared by the ``vgp-native`` subcommands: errors, parsing, tables, files, progress.

Output fits the terminal: ``terminal_width()`` is ``COLUMNS`` when set, else the
width of the terminal, else 80 (argparse's habit); prose is wrapped to it, and
tables leave out their optional columns until they fit.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from .._atomic import atomic_open, atomic_write_text

__all__ = [
    "CliError",
    "Progress",
    "atomic_open",
    "atomic_write_text",
    "csv_text",
    "error_text",
    "fit_table",
    "flag_message",
    "format_table",
    "int_list",
    "non_negative_int",
    "output_dir",
    "positive_float",
    "positive_int",
    "save_figure",
    "str_list",
    "terminal_width",
    "wrap",
]

#: Columns when neither COLUMNS nor a terminal says (output to a pipe or a file).
FALLBACK_COLUMNS = 80
#: Narrower terminals get this width anyway: below it nothing reads well.
MIN_COLUMNS = 40


class CliError(Exception):
    """A usage or data error: reported as one message on stderr, exit status 2."""


def terminal_width(stream: TextIO | None = None) -> int:
    """Columns to fit: ``COLUMNS`` when set, else the width of the terminal behind
    stdout (or ``stream``), else 80; never fewer than 40."""
    columns = shutil.get_terminal_size((0, 0)).columns
    if columns <= 0 and stream is not None:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            columns = os.get_terminal_size(stream.fileno()).columns
    return max(columns if columns > 0 else FALLBACK_COLUMNS, MIN_COLUMNS)


def wrap(text: str, first: str = "", indent: str = "", width: int | None = None) -> str:
    """``text`` as lines of at most ``width`` (the terminal's) columns, the first
    prefixed by ``first``, the others by ``indent``. Words (paths, numbers) are
    never split, so only a word longer than a line overflows it."""
    return textwrap.fill(
        text,
        width or terminal_width(),
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def error_text(prog: str, message: str) -> str:
    """``prog: error: message``, wrapped to the terminal, continuation lines indented."""
    return wrap(f"{prog}: error: {message}", indent="  ", width=terminal_width(sys.stderr))


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


def fit_table(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str],
    align: str,
    width: int,
    optional: Sequence[str] = (),
    keys: int = 1,
    short: Mapping[str, str] | None = None,
) -> tuple[str, list[str]]:
    """``format_table`` at most ``width`` columns wide.

    First the headers named in ``short`` take their short form; then the
    ``optional`` columns (named by header) are left out, in that order, until
    the table fits. When it still does not, each row becomes a record (as psql's
    expanded display): the first ``keys`` cells that name the row on one line,
    then every other cell with its header, indented and wrapped, so nothing is lost.

    Returns:
        The text, and the (full) headers of the columns it shows.
    """
    short = dict(short or {})
    keep = list(range(len(header)))
    stages = [("", False), ("", True), *((name, True) for name in optional)]
    for name, abbreviate in stages:
        if name:
            keep.remove(list(header).index(name))
        names = [short.get(header[i], header[i]) if abbreviate else header[i] for i in keep]
        text = format_table(
            [[row[i] for i in keep] for row in rows], names, "".join(align[i] for i in keep)
        )
        if max(len(line) for line in text.splitlines()) <= width:
            return text, [header[i] for i in keep]
    records = []
    for row in rows:
        cells = [str(c) for c in row]
        name = (
            cells[0]
            if keys == 1
            else ", ".join(f"{h}={c}" for h, c in zip(header[:keys], cells[:keys], strict=True))
        )
        records.append(wrap(name, indent="  ", width=width))
        # Greedy lines of "header value" pairs: a pair is never broken across lines.
        line = ""
        for h, c in zip(header[keys:], cells[keys:], strict=True):
            pair = f"{h} {c}"
            if line and 4 + len(line) + 2 + len(pair) + 1 > width:  # indent, ", ", ","
                records.append(f"    {line},")
                line = ""
            line = f"{line}, {pair}" if line else pair
        records.append(f"    {line}")
    return "\n".join(records), list(header)


class Progress:
    """A plain-text progress bar on stderr.

    On a terminal one line is redrawn in place; otherwise (a pipe, a log file,
    CI) each step prints its own line, so the output stays readable.
    """

    def __init__(self, total: int, stream: TextIO | None = None, width: int | None = None) -> None:
        self.total = max(int(total), 1)
        self.stream = stream if stream is not None else sys.stderr
        self.columns = terminal_width(self.stream)
        # The bar takes a quarter of the line at most: the note after it matters more.
        self.width = width if width is not None else min(24, max(10, self.columns // 4 - 2))
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
            # One line redrawn in place: it must not wrap, so it is cut to the width.
            cols = self.columns
            self.stream.write("\r" + line[: cols - 1].ljust(cols - 1))
            self._open = True
        else:
            self.stream.write(wrap(line, indent="    ", width=self.columns) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the in-place line (on a terminal)."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
