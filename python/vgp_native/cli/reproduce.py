"""``vgp-native reproduce``: rerun the papers behind the remedies and check their claims.

    vgp-native reproduce --list
    vgp-native reproduce NAME [--quick] [--out DIR] [--seed S]
    vgp-native reproduce all [--quick] [--out DIR] [--seed S]

Each run prints its claim table (the claim, the paper's value, the value
measured here, whether it holds) and writes ``DIR/NAME/result.json``, the
figures and a ``README.md`` table; ``all`` also writes ``DIR/index.html``
linking every figure. An unknown name is a one-line error, exit status 2; so is
a preset whose optional dependency is missing (ioffe2015 needs scikit-learn),
which ``all`` skips with a note on stderr.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from .. import reproduce
from .common import CliError, non_negative_int, output_dir

__all__ = ["add_reproduce_parser", "run_reproduce"]


def add_reproduce_parser(sub: Any) -> None:
    """Register the ``reproduce`` subcommand on the subparsers ``sub``."""
    p = sub.add_parser(
        "reproduce",
        help="rerun the papers behind the remedies and check their claims",
        description="Rerun a paper's central experiment on this package: a claim table "
        "(claim, paper's value, value measured here, holds) on the terminal, figures, "
        "result.json and README.md in OUT/NAME. 'all' runs every paper and writes "
        "OUT/index.html. --list shows the papers.",
    )
    p.add_argument("name", nargs="?", default=None, metavar="NAME|all", help="a paper or all")
    p.add_argument("--quick", action="store_true", help="the small version (seconds)")
    p.add_argument("--out", default="vgp-reproduce", help="output directory (./vgp-reproduce)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed (0)")
    p.add_argument("--list", action="store_true", help="list the papers and exit")


def _listing() -> str:
    lines = []
    for name in reproduce.names():
        text = f"{name:<16}{reproduce.preset(name).PAPER}"
        lines += textwrap.wrap(text, 79, subsequent_indent=" " * 16)
    lines.append("")
    lines.append("Run one with: vgp-native reproduce NAME [--quick]; all of them: reproduce all")
    return "\n".join(lines)


def run_reproduce(args: argparse.Namespace) -> int:
    """Run the command; exit status 0 (a claim that does not hold is a result, not an error)."""
    if args.list or args.name is None:
        print(_listing())
        return 0
    known = reproduce.names()
    if args.name != "all" and args.name not in known:
        raise CliError(
            f"unknown reproduction {args.name!r}; expected one of {', '.join(known)} or all"
        )
    targets = known if args.name == "all" else [args.name]
    out = output_dir(args.out)
    results = []
    for name in targets:
        size = "quick" if args.quick else "full"
        print(f"running {name} ({size}, seed {args.seed}) ...", file=sys.stderr, flush=True)
        try:
            result = reproduce.run(name, quick=args.quick, out=out, seed=args.seed)
        except ImportError as exc:  # an optional dependency, e.g. scikit-learn
            if args.name != "all":
                raise CliError(f"{name}: {exc}") from None
            print(f"skipped {name}: {exc}", file=sys.stderr, flush=True)
            continue
        results.append(result)
        print(reproduce.format_result(result))
        print(f"figures, result.json and README.md in {out / name}\n", flush=True)
    if args.name == "all":
        index = reproduce.write_index(out, results)
        held = sum(c["holds"] for r in results for c in r["claims"])
        total = sum(len(r["claims"]) for r in results)
        seconds = sum(r["seconds"] for r in results)
        print(f"{held} of {total} claims hold over {len(results)} papers ({seconds:.1f} s)")
        print(f"index of every figure: {index}")
    return 0
