"""Kernel benchmark: native GEMM and elementwise kernels next to numpy, in one run.

Prints the detected CPU, its caches and the GEMM kernel, tile and blocks chosen
on it, then runs ``bench_gemm.py`` (GEMM GFLOP/s for float32 and float64 at 64
to 2048, the transposed forms and the training shapes, against numpy's matmul,
which runs OpenBLAS, and torch.matmul when PyTorch is installed) and
``bench_elementwise.py`` (activation, batch-norm and dense forward+backward
against plain-numpy code), and prints both tables.

Usage:
    python bench/kernels.py [--quick] [--threads 1,2] [--json PATH]

To compare with OpenBLAS's AVX-512 kernel on a machine that pins another one::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/kernels.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_elementwise
import bench_gemm
import vgp_native as vn
from _cpu import describe_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes, shorter samples")
    parser.add_argument("--threads", help="comma-separated thread counts (default 1 and all)")
    parser.add_argument("--json", metavar="PATH", help="also write every row as JSON")
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")] if args.threads else None
    print(f"vgp_native {vn.__version__}; {bench_gemm.blas_description()}")
    print(describe_cpu() + "\n")
    gemm_rows = bench_gemm.run(quick=args.quick, threads=threads)
    print(bench_gemm.format_table(gemm_rows))
    print()
    elementwise_rows = bench_elementwise.run(quick=args.quick, threads=threads)
    print(bench_elementwise.format_table(elementwise_rows))
    if args.json:
        payload = {"gemm": gemm_rows, "elementwise": elementwise_rows}
        Path(args.json).write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
