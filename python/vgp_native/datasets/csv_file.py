"""Reading a labelled data set from a CSV file (``--dataset FILE.csv`` in the CLI).

Public as :func:`vgp_native.datasets.load_csv`. Every problem with the file is a
one-line error that names the file, the line (and column) and what is wrong.
"""

from __future__ import annotations

import csv
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


def _read_rows(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their (1-based) line numbers."""
    rows: list[tuple[int, list[str]]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from exc
    except csv.Error as exc:
        raise ValueError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from exc
    return rows


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


def _parse(path: Path, data: list[tuple[int, list[str]]], n_cols: int) -> np.ndarray:
    values = np.empty((len(data), n_cols), dtype=np.float64)
    for i, (line, row) in enumerate(data):
        if len(row) != n_cols:
            raise ValueError(f"{path}: line {line}: expected {n_cols} columns, found {len(row)}")
        for j, cell in enumerate(row):
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(
                    f"{path}: line {line}, column {j + 1}: {cell.strip()!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise ValueError(
                    f"{path}: line {line}, column {j + 1}: {cell.strip()!r} is NaN or infinite"
                )
            values[i, j] = value
    return values


def load_csv(
    path: str | os.PathLike[str],
    *,
    label_column: int | str = -1,
    header: bool | str = "auto",
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray]:
    """Load features and labels from a CSV file.

    One sample per row; every column but the label column is a feature. Blank
    lines are skipped. With ``header="auto"`` the first row is a header when any
    of its cells is not a number. Labels that are all integers (``0``, ``1.0``,
    ``-3``) become int64 classes, and there must be at least two of them;
    other numeric labels are kept as float64 regression targets.

    Args:
        path: the CSV file (UTF-8, a byte-order mark is allowed).
        label_column: index of the label column (negative counts from the end), or
            its name in the header row.
        header: True, False or "auto".
        delimiter: the one-character field separator.

    Returns:
        ``(X, y)``: C-contiguous float64 features of shape ``(n_rows, n_cols - 1)``
        and labels of shape ``(n_rows,)`` (int64 classes or float64 targets).

    Raises:
        FileNotFoundError: the file does not exist (the message names it).
        ValueError: the file is empty, has a non-numeric or non-finite cell (line and
            column given), a row with the wrong number of cells (line, expected and
            found counts), fewer than two columns, or integer labels of a single class.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, received {path!r}")
    if header not in ("auto", True, False):
        raise ValueError(f"header must be True, False or 'auto', received {header!r}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be a single character, received {delimiter!r}")
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"{file}: no such file")
    if not file.is_file():
        raise ValueError(f"{file}: not a regular file")

    rows = _read_rows(file, delimiter)
    if not rows:
        raise ValueError(f"{file}: the file is empty (no rows)")
    first_line, first = rows[0]
    has_header = header is True or (header == "auto" and not all(map(_is_number, first)))
    names = [cell.strip() for cell in first] if has_header else None
    data = rows[1:] if has_header else rows
    if not data:
        raise ValueError(f"{file}: line {first_line} is a header, and no data rows follow it")
    n_cols = len(first)
    if n_cols < 2:
        raise ValueError(
            f"{file}: line {first_line}: expected at least 2 columns (features and a label), "
            f"found {n_cols}"
        )
    label = _label_index(label_column, names, n_cols, file)
    values = _parse(file, data, n_cols)

    X = np.ascontiguousarray(np.delete(values, label, axis=1))
    y = values[:, label]
    if np.all(y == np.round(y)) and np.all(np.abs(y) < 2.0**53):
        y = y.astype(np.int64)
        classes = np.unique(y)
        if classes.size < 2:
            column = names[label] if names else f"column {label + 1}"
            raise ValueError(
                f"{file}: the label column ({column}) holds a single class ({classes[0]}); "
                "a classifier needs at least 2"
            )
    return X, y
