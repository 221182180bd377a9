"""Checks of what the command line prints: it fits the terminal, errors are one message."""

from __future__ import annotations

#: The width the CLI tests give the command line (COLUMNS=80, and a pipe for output).
COLUMNS = 80


def assert_fits(text: str, columns: int = COLUMNS) -> None:
    """Every line of ``text`` fits ``columns``, but for a single word longer than that
    (a path): words are never split."""
    wide = [line for line in text.splitlines() if len(line) > columns and " " in line.strip()]
    assert wide == [], "\n".join(wide)


def words(text: str) -> str:
    """``text`` with every run of whitespace (line breaks of wrapping included) as one space."""
    return " ".join(text.split())


def error_message(stderr: str, columns: int = COLUMNS) -> str:
    """The one error message on ``stderr``, unwrapped: its first line says "error", the
    lines after it are indented continuations, all fit ``columns``, no traceback."""
    lines = stderr.strip().splitlines()
    assert lines and "error" in lines[0] and "Traceback" not in stderr, stderr
    assert all(line.startswith("  ") for line in lines[1:]), stderr
    assert_fits(stderr, columns)
    return words(stderr)
