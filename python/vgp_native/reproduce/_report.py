"""What a reproduction leaves behind: result.json, figures, README.md, index.html, a table.

Every file is written whole (a temporary file, then a rename), so an
interrupted run never leaves half a file. Figures are PNG at 100 dpi.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_open, atomic_write_text

__all__ = [
    "CLAIM_KEYS",
    "RESULT_KEYS",
    "check_claims",
    "format_result",
    "index_page",
    "markdown_table",
    "write_result",
]

#: The keys of one claim, in order.
CLAIM_KEYS: tuple[str, ...] = ("claim", "paper_value", "measured", "holds")
#: The keys of a result (``reproduce.run``'s return value; result.json has them too).
RESULT_KEYS: tuple[str, ...] = ("name", "paper", "claims", "figures", "seconds")
#: Resolution of the saved figures.
DPI = 100
#: Width of the terminal table (it fits a classic 80-column terminal).
WIDTH = 80
# Terminal columns: number, holds, claim, paper value, measured (with 2-space gaps).
_COLUMNS = (("#", 2, "r"), ("holds", 5, "l"), ("claim", 29, "l"), ("paper", 17, "l"))
_MEASURED = WIDTH - 1 - sum(width + 2 for _, width, _ in _COLUMNS)


def check_claims(name: str, claims: Any, figures: Any) -> None:
    """Check a preset's output against the contract; a TypeError names what is wrong."""
    if not isinstance(claims, list) or not claims:
        raise TypeError(f"reproduction {name}: claims must be a non-empty list of dicts")
    for i, claim in enumerate(claims):
        if not isinstance(claim, dict) or tuple(claim) != CLAIM_KEYS:
            keys = list(claim) if isinstance(claim, dict) else type(claim).__name__
            raise TypeError(
                f"reproduction {name}: claim {i} must have the keys {list(CLAIM_KEYS)} in "
                f"this order, received {keys}"
            )
        if not all(isinstance(claim[k], str) and claim[k] for k in CLAIM_KEYS[:3]):
            raise TypeError(f"reproduction {name}: claim {i} needs non-empty text fields")
        if not isinstance(claim["holds"], bool):
            raise TypeError(
                f"reproduction {name}: claim {i} 'holds' must be a bool, received "
                f"{claim['holds']!r}"
            )
    stems = [stem for stem, _ in figures]
    if len(set(stems)) != len(stems) or not all(s.isidentifier() for s in stems):
        raise TypeError(f"reproduction {name}: figure stems must be distinct names, got {stems}")


def _save_png(fig: Any, path: Path) -> None:
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=DPI)
    if getattr(fig.canvas, "manager", None) is not None:
        # A figure made through pyplot stays registered there until closed.
        import matplotlib.pyplot as plt

        plt.close(fig)


def write_result(
    folder: Path,
    result: dict[str, Any],
    figures: Sequence[tuple[str, Any]],
    summary: str,
    quick: bool,
    seed: int,
    notes: str = "",
) -> list[str]:
    """Write ``folder/result.json``, the figures and ``folder/README.md`` (with ``notes``,
    the preset's account of what differs from the paper, under the claim table).

    Returns:
        The paths of the figures written, as strings.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figures:
        path = folder / f"{stem}.png"
        _save_png(fig, path)
        paths.append(path)
    record = {
        "name": result["name"],
        "paper": result["paper"],
        "summary": summary,
        "quick": quick,
        "seed": seed,
        "claims": result["claims"],
        "figures": [p.name for p in paths],
        "seconds": round(result["seconds"], 3),
    }
    atomic_write_text(folder / "result.json", json.dumps(record, indent=2) + "\n")
    atomic_write_text(folder / "README.md", _readme(record, notes))
    return [str(p) for p in paths]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(claims: Sequence[dict[str, Any]]) -> str:
    """The claims as a Markdown table: claim, paper, measured here, holds."""
    lines = ["| # | claim | paper | measured here | holds |", "|---|---|---|---|---|"]
    for i, c in enumerate(claims, 1):
        cells = [str(i), c["claim"], c["paper_value"], c["measured"], _yes(c["holds"])]
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    return "\n".join(lines)


def _yes(holds: bool) -> str:
    return "yes" if holds else "**no**"


def _run_line(record: dict[str, Any]) -> str:
    held = sum(c["holds"] for c in record["claims"])
    size = "quick" if record["quick"] else "full"
    return (
        f"`vgp-native reproduce {record['name']}{' --quick' if record['quick'] else ''}` "
        f"({size} run, seed {record['seed']}): {held} of {len(record['claims'])} claims hold."
    )


def _readme(record: dict[str, Any], notes: str = "") -> str:
    parts = [
        f"# {record['name']}",
        f"**{record['paper']}**",
        record["summary"],
        _run_line(record),
        markdown_table(record["claims"]),
        *([notes.strip()] if notes.strip() else []),
        *(f"![{Path(f).stem}]({f})" for f in record["figures"]),
    ]
    return "\n\n".join(parts) + "\n"


def format_result(result: dict[str, Any], width: int = WIDTH) -> str:
    """The claim table of a result for a terminal, every line within ``width`` columns.

    Long cells wrap inside their column; a claim that does not hold says "NO".
    """
    held = sum(c["holds"] for c in result["claims"])
    head = textwrap.wrap(f"{result['name']}: {result['paper']}", width - 1)
    head.append(f"{held} of {len(result['claims'])} claims hold ({result['seconds']:.1f} s)")
    header = [name for name, _, _ in _COLUMNS] + ["measured here"]
    widths = [w for _, w, _ in _COLUMNS] + [_MEASURED]
    aligns = [a for _, _, a in _COLUMNS] + ["l"]
    rows = [_row(header, widths, aligns), ["  ".join("-" * w for w in widths)]]
    for i, c in enumerate(result["claims"], 1):
        cells = [str(i), "yes" if c["holds"] else "NO", c["claim"], c["paper_value"], c["measured"]]
        rows.append(_row(cells, widths, aligns))
    return "\n".join(head + [""] + [line for row in rows for line in row])


def _row(cells: Sequence[str], widths: Sequence[int], aligns: Sequence[str]) -> list[str]:
    """One table row, its cells wrapped to their column widths, as lines."""
    wrapped = [
        textwrap.wrap(cell, w, break_long_words=True, break_on_hyphens=False) or [""]
        for cell, w in zip(cells, widths, strict=True)
    ]
    lines = []
    for k in range(max(len(w) for w in wrapped)):
        parts = []
        for lines_of, w, a in zip(wrapped, widths, aligns, strict=True):
            text = lines_of[k] if k < len(lines_of) else ""
            parts.append(text.rjust(w) if a == "r" else text.ljust(w))
        lines.append("  ".join(parts).rstrip())
    return lines


_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "vertical-align:top;text-align:left}.no{color:#b00;font-weight:bold}.yes{color:#070}"
    "img{max-width:100%;border:1px solid #eee;margin:4px 0}"
)


def _claims_html(claims: Sequence[dict[str, Any]]) -> str:
    rows = ["<tr><th>#</th><th>claim</th><th>paper</th><th>measured here</th><th>holds</th></tr>"]
    for i, c in enumerate(claims, 1):
        ok = "yes" if c["holds"] else "no"
        cells = [str(i), c["claim"], c["paper_value"], c["measured"]]
        rows.append(
            "<tr>"
            + "".join(f"<td>{html.escape(x)}</td>" for x in cells)
            + f'<td class="{ok}">{ok}</td></tr>'
        )
    return "<table>" + "".join(rows) + "</table>"


def index_page(out: Path, results: Sequence[dict[str, Any]], summaries: dict[str, str]) -> Path:
    """Write ``out/index.html``: every preset's claims and links to all its figures.

    ``results`` come from ``run`` with ``out`` given (their figures are paths
    inside ``out``); ``summaries`` maps each name to its preset's SUMMARY.
    """
    out.mkdir(parents=True, exist_ok=True)
    held = sum(c["holds"] for r in results for c in r["claims"])
    total = sum(len(r["claims"]) for r in results)
    toc = "".join(
        f'<li><a href="#{html.escape(r["name"])}">{html.escape(r["name"])}</a>: '
        f"{sum(c['holds'] for c in r['claims'])} of {len(r['claims'])} claims hold</li>"
        for r in results
    )
    body = [
        "<h1>vgp-native: the papers behind the remedies, rerun</h1>",
        f"<p>{held} of {total} claims hold.</p><ul>{toc}</ul>",
    ]
    for r in results:
        name = html.escape(r["name"])
        links = []
        for f in r["figures"]:
            rel = html.escape(Path(f).resolve().relative_to(out.resolve()).as_posix())
            links.append(f'<a href="{rel}"><img src="{rel}" alt="{rel}"></a>')
        body += [
            f'<h2 id="{name}">{name}</h2>',
            f"<p><b>{html.escape(r['paper'])}</b></p>",
            f"<p>{html.escape(summaries.get(r['name'], ''))}</p>",
            _claims_html(r["claims"]),
            f'<p><a href="{name}/result.json">result.json</a> &middot; '
            f'<a href="{name}/README.md">README.md</a> &middot; {r["seconds"]:.1f} s</p>',
            *links,
        ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>vgp-native reproductions</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
    path = out / "index.html"
    atomic_write_text(path, page)
    return path
