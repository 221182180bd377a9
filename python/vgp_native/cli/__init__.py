"""The ``vgp-native`` command line (also ``python -m vgp_native``).

Subcommands::

    vgp-native demo      [--epochs N] [--seed S] [--out DIR]
    vgp-native diagnose  [--depth D] [--width W] [--activation A] [--init I] [--batchnorm]
                         [--residual] [--optimizer O] [--lr LR] [--epochs N] [--batch-size B]
                         [--seed S] [--dataset moons|circles|spirals|FILE.csv] [--out DIR]
    vgp-native sweep     --depths 2,4,8 --activations sigmoid,relu --inits glorot_uniform,he_normal
                         --norms none,batchnorm [--residual none,identity] [--widths ...]
                         [--datasets ...] --seeds 3 [--epochs N] [--scheduler ADDRESS] [--out DIR]
    vgp-native bench     [--quick] [--json PATH]
    vgp-native reproduce [NAME|all] [--quick] [--out DIR] [--seed S] [--list]

With no command it prints this help and exits with status 0, as ``pip`` and
``docker`` do. Exit status: 0 on success, 2 for a usage or data error (one
message on stderr, wrapped to the terminal, no traceback), 130 when interrupted
with Ctrl-C. Output fits the terminal's width (``COLUMNS`` honoured, 80 when
the output is not a terminal).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .._core import __version__
from .bench import run_bench
from .common import (
    CliError,
    error_text,
    int_list,
    non_negative_int,
    positive_float,
    positive_int,
    str_list,
)
from .demo import run_demo
from .diagnose import run_diagnose
from .reproduce import add_reproduce_parser, run_reproduce
from .sweep import run_sweep

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE, the status a shell reports for a command that lost its reader.
EXIT_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """argparse with one-message errors: ``prog: error: message (see prog --help)``."""

    def error(self, message: str) -> NoReturn:
        """Print the usage error, wrapped to the terminal, and exit with status 2."""
        self.exit(EXIT_USAGE, error_text(self.prog, f"{message} (see {self.prog} --help)") + "\n")


def _add_demo(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="the seed's experiment and every remedy side by side",
        description="Train the seed's 9-layer sigmoid network on make_moons and each remedy "
        "(fewer layers, relu + he_normal, batch normalization, Xavier vs naive init for "
        "tanh, residual blocks) plus a 30-layer stress test; print a table and the findings, "
        "write plots and report.html.",
    )
    p.add_argument("--epochs", type=positive_int, default=100, help="epochs per network (100)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="model seed (0)")
    p.add_argument("--out", default="vgp-demo", help="output directory (./vgp-demo)")


def _add_diagnose(sub: Any) -> None:
    p = sub.add_parser(
        "diagnose",
        help="train one network and report its gradient flow",
        description="Train one network (defaults: the seed's, 8 hidden sigmoid layers of 10) "
        "and print its gradient-flow report; write report.html and plots.",
    )
    p.add_argument("--depth", type=positive_int, default=8, help="hidden Dense layers (8)")
    p.add_argument("--width", type=positive_int, default=10, help="units per hidden layer (10)")
    p.add_argument("--activation", default="sigmoid", help="hidden activation (sigmoid)")
    p.add_argument(
        "--init",
        default="glorot_uniform",
        help="kernel initializer, e.g. he_normal or 'random_normal(stddev=1)' (glorot_uniform)",
    )
    p.add_argument("--batchnorm", action="store_true", help="batch normalization after each Dense")
    p.add_argument("--residual", action="store_true", help="identity-skip residual blocks")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout rate (0)")
    p.add_argument("--optimizer", default="adam", help="adam, sgd or rmsprop (adam)")
    p.add_argument(
        "--lr",
        "--learning-rate",
        dest="lr",
        type=positive_float,
        default=None,
        help="learning rate (Keras default)",
    )
    p.add_argument("--epochs", type=positive_int, default=100, help="epochs (100)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="batch size (32)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="model seed (0)")
    p.add_argument(
        "--dataset",
        default="moons",
        help="moons, circles, spirals, or a CSV file (last column the label) (moons)",
    )
    p.add_argument("--out", default="vgp-diagnose", help="output directory (./vgp-diagnose)")


def _add_sweep(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="a grid of configurations x seeds, locally or on a Dask cluster",
        description="Train every combination of the listed values for every seed. Lists are "
        "comma-separated; a flag left out keeps the seed's setting. Finished runs are kept in "
        "OUT/runs: rerunning the same command after an interruption resumes.",
    )
    p.add_argument("--depths", type=int_list, default=[8], help="hidden Dense layers (8)")
    p.add_argument("--widths", type=int_list, default=[10], help="hidden widths (10)")
    p.add_argument("--activations", type=str_list, default=["sigmoid"], help="(sigmoid)")
    p.add_argument("--inits", type=str_list, default=["glorot_uniform"], help="(glorot_uniform)")
    p.add_argument("--norms", type=str_list, default=["none"], help="none, batchnorm (none)")
    p.add_argument("--residual", type=str_list, default=["none"], help="none, identity (none)")
    p.add_argument("--datasets", type=str_list, default=["moons"], help="names or CSV files")
    p.add_argument("--seeds", type=positive_int, default=1, help="seeds per configuration (1)")
    p.add_argument("--epochs", type=positive_int, default=100, help="epochs per run (100)")
    p.add_argument(
        "--scheduler", default=None, help="address of a Dask scheduler (needs vgp-native[dask])"
    )
    p.add_argument(
        "--jobs", type=positive_int, default=None, help="local worker processes (one per core)"
    )
    p.add_argument("--out", default="vgp-sweep", help="output directory (./vgp-sweep)")


def _add_bench(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="native kernels and training against numpy and PyTorch",
        description="Run bench/kernels.py and bench/training.py from the source checkout "
        "and print their tables.",
    )
    p.add_argument("--quick", action="store_true", help="fewer sizes, shorter timings")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    p.add_argument(
        "--dir",
        default=None,
        help="folder holding kernels.py and training.py (the checkout's bench/)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``vgp-native``."""
    parser = _Parser(
        prog="vgp-native",
        description="See, measure and fix the vanishing gradient problem.",
    )
    parser.add_argument("--version", action="version", version=f"vgp-native {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_demo(sub)
    _add_diagnose(sub)
    _add_sweep(sub)
    _add_bench(sub)
    add_reproduce_parser(sub)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return run_demo(args)
    if args.command == "diagnose":
        return run_diagnose(args)
    if args.command == "sweep":
        return run_sweep(args)
    if args.command == "reproduce":
        return run_reproduce(args)
    return run_bench(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``vgp-native`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    prog = f"vgp-native {args.command}"
    try:
        return _dispatch(args)
    except CliError as exc:
        print(error_text(prog, str(exc)), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``vgp-native demo | head``): stop quietly, as cat does.
        # Python would otherwise report the same error again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
