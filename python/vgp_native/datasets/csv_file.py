"""Reading a labelled data set from a CSV file (``--dataset FILE`` in the CLI).

Public as :func:`vgp_native.datasets.load_csv`. The content decides, not the
file's suffix: ``moons.txt`` holding comma-separated values is read like
``moons.csv``, and the separator (comma, semicolon, tab or spaces, as
``numpy.savetxt`` writes) is found from the first lines. Every problem with the
file is a one-line error that names the file, the line (and column) and what is
wrong.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_csv"]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


#: Separators ``delimiter="auto"`` tries, in this order; None: runs of spaces or tabs.
SEPARATORS: tuple[str | None, ...] = (",", ";", "\t", None)
#: Lines the separator is judged on.
_SNIFF_LINES = 20


def _read_text(path: Path) -> str:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from exc


def _split(text: str, delimiter: str | None) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their (1-based) line numbers; ``delimiter`` None splits on
    whitespace. Malformed quoting is a ValueError naming the line."""
    if delimiter is None:
        return [(i + 1, line.split()) for i, line in enumerate(text.splitlines()) if line.strip()]
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: malformed CSV ({exc})") from None
    return rows


def sniff_delimiter(text: str) -> str | None:
    """The separator of CSV-like ``text``: the first of ``SEPARATORS`` that splits each of
    its first non-blank lines into the same number (at least 2) of cells; "," when none does
    (the file's errors are then reported against commas). None means runs of whitespace."""
    head = "\n".join([line for line in text.splitlines() if line.strip()][:_SNIFF_LINES])
    for candidate in SEPARATORS:
        try:
            counts = {len(row) for _, row in _split(head, candidate)}
        except ValueError:
            continue
        if len(counts) == 1 and counts.pop() >= 2:
            return candidate
    return ","


def _read_rows(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their (1-based) line numbers (``delimiter`` "auto": sniffed)."""
    text = _read_text(path)
    sep = sniff_delimiter(text) if delimiter == "auto" else delimiter
    try:
        return _split(text, sep)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _label_index(label_column: Any, names: list[str] | None, n_cols: int, path: Path) -> int:
    if isinstance(label_column, str):
        if names is None:
            raise ValueError(
                f"{path}: label_column={label_column!r} names a column, but the file has no "
                "header row; pass a column index instead"
            )
        if label_column not in names:
            raise ValueError(
                f"{path}: label_column={label_column!r} is not a column; columns are {names}"
            )
        return names.index(label_column)
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)):
        raise TypeError(
            f"label_column must be a column index or a header name, received {label_column!r}"
        )
    if not -n_cols <= label_column < n_cols:
        raise ValueError(
            f"{path}: label_column={label_column} is out of range for {n_cols} columns"
        )
    return int(label_column) % n_cols


def _number(cell: str, path: Path, line: int, column: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(
            f"{path}: line {line}, column {column}: {cell.strip()!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise ValueError(
            f"{path}: line {line}, column {column}: {cell.strip()!r} is NaN or infinite"
        )
    return value


def _parse(
    path: Path, data: list[tuple[int, list[str]]], n_cols: int, label: int
) -> tuple[np.ndarray, list[str]]:
    """The features as float64 ``(rows, n_cols - 1)`` and the label cells, stripped."""
    values = np.empty((len(data), n_cols - 1), dtype=np.float64)
    features = [j for j in range(n_cols) if j != label]
    for i, (line, row) in enumerate(data):
        if len(row) != n_cols:
            raise ValueError(f"{path}: line {line}: expected {n_cols} columns, found {len(row)}")
        for k, j in enumerate(features):
            values[i, k] = _number(row[j], path, line, j + 1)
    return values, [row[label].strip() for _, row in data]


def _labels(
    path: Path, data: list[tuple[int, list[str]]], cells: list[str], label: int, column: str
) -> np.ndarray:
    """Numbers (int64 classes or float64 targets) or names (str classes)."""
    lines = [line for line, _ in data]
    for line, cell in zip(lines, cells, strict=True):
        if not cell:
            raise ValueError(f"{path}: line {line}, column {label + 1}: the label is empty")
    numeric = [_is_number(cell) for cell in cells]
    if any(numeric) and not all(numeric):
        i, j = numeric.index(True), numeric.index(False)
        raise ValueError(
            f"{path}: the label column ({column}) mixes numbers (line {lines[i]}: "
            f"{cells[i]!r}) and names (line {lines[j]}: {cells[j]!r}); it must hold one kind"
        )
    if all(numeric):
        y = np.array([_number(c, path, n, label + 1) for n, c in zip(lines, cells, strict=True)])
        if not (np.all(y == np.round(y)) and np.all(np.abs(y) < 2.0**53)):
            return y
        y = y.astype(np.int64)
    else:
        y = np.array(cells, dtype=str)
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"{path}: the label column ({column}) holds a single class ({classes[0]}); "
            "a classifier needs at least 2"
        )
    return y


def _has_header(rows: list[tuple[int, list[str]]], label: int | None) -> bool:
    """``header="auto"``: whether the first row names the columns.

    It does when a feature cell is not a number, or when its label cell is a name
    while every other row's label is a number. With the label column given by name
    (``label`` None), when any of its cells is not a number.
    """
    first = rows[0][1]
    if label is None:
        return not all(map(_is_number, first))
    if not all(_is_number(cell) for j, cell in enumerate(first) if j != label):
        return True
    later = [row[label] for _, row in rows[1:] if len(row) > label]
    return not _is_number(first[label]) and bool(later) and all(map(_is_number, later))


def load_csv(
    path: str | os.PathLike[str],
    *,
    label_column: int | str = -1,
    header: bool | str = "auto",
    delimiter: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Load features and labels from a CSV file (whatever its suffix).

    One sample per row; every column but the label column is a feature and must
    be a number. Blank lines are skipped. With ``header="auto"`` the first row is
    a header when one of its feature cells is not a number (or its label cell is
    a name while the other rows' labels are numbers). Labels that are all
    integers (``0``, ``1.0``, ``-3``) become int64 classes, and there must be at
    least two of them; other numeric labels are kept as float64 regression
    targets. Labels that are all names (``cat``, ``dog``) are returned as
    strings: ``np.unique(y)`` (sorted) numbers the classes, as scikit-learn's
    ``LabelEncoder`` does. A column mixing numbers and names is an error.

    Args:
        path: the file (UTF-8 text, a byte-order mark is allowed).
        label_column: index of the label column (negative counts from the end), or
            its name in the header row.
        header: True, False or "auto".
        delimiter: the one-character field separator, or "auto": the first of
            comma, semicolon, tab and runs of whitespace that splits the first
            lines into equal numbers of cells (comma when none does).

    Returns:
        ``(X, y)``: C-contiguous float64 features of shape ``(n_rows, n_cols - 1)``
        and labels of shape ``(n_rows,)`` (int64 classes, float64 targets or str names).

    Raises:
        FileNotFoundError: the file does not exist (the message names it).
        ValueError: the file is empty or not text, has a non-numeric or non-finite
            feature cell (line and column given), a row with the wrong number of
            cells (line, expected and found counts), fewer than two columns, an
            empty label, labels mixing numbers and names, or a single class.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, received {path!r}")
    if header not in ("auto", True, False):
        raise ValueError(f"header must be True, False or 'auto', received {header!r}")
    if not isinstance(delimiter, str) or (len(delimiter) != 1 and delimiter != "auto"):
        raise ValueError(f"delimiter must be a single character or 'auto', received {delimiter!r}")
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"{file}: no such file")
    if not file.is_file():
        raise ValueError(f"{file}: not a regular file")

    rows = _read_rows(file, delimiter)
    if not rows:
        raise ValueError(f"{file}: the file is empty (no rows)")
    first_line, first = rows[0]
    n_cols = len(first)
    if n_cols < 2:
        raise ValueError(
            f"{file}: line {first_line}: expected at least 2 columns (features and a label), "
            f"found {n_cols}"
        )
    if header == "auto":
        by_index = None if isinstance(label_column, str) else label_column
        has_header = _has_header(
            rows, None if by_index is None else _label_index(by_index, None, n_cols, file)
        )
    else:
        has_header = bool(header)
    names = [cell.strip() for cell in first] if has_header else None
    data = rows[1:] if has_header else rows
    if not data:
        raise ValueError(f"{file}: line {first_line} is a header, and no data rows follow it")
    label = _label_index(label_column, names, n_cols, file)
    X, cells = _parse(file, data, n_cols, label)
    column = names[label] if names else f"column {label + 1}"
    return np.ascontiguousarray(X), _labels(file, data, cells, label, column)
