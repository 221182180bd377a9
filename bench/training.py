"""Training benchmark: time per epoch of ``fit`` against plain numpy and PyTorch eager.

Same architecture, float32, Adam, same batch size and thread count (numpy's
BLAS limited through threadpoolctl where it is installed), measured
side by side in one run (machines here are shared and noisy: repetitions of
the three frameworks are interleaved and the median is reported). Each timed
run starts after a pause, so that no library's spinning worker threads (numpy's
OpenBLAS, PyTorch's and vgp-native's OpenMP pools) take the cores from the next.

Cases:
    tiny      the seed network (2-[10 sigmoid x8]-1 sigmoid), 200 samples, batch 32
    medium    784-[256 relu x4]-10 softmax, batch 128
    large     1024-[1024 Dense+BatchNorm+relu x8]-1024 MSE, batch 256
    residual  512 wide, 8 residual blocks (Dense-BN-relu-Dense-BN + identity, relu
              after the add), batch 256, 512-unit MSE output

PyTorch runs its fastest eager setup: torch.optim.Adam(fused=True) where the CPU
build supports it. Under the table, per case, the share of vgp-native's step
spent outside matrix products and the GEMM rate inside the step against the
same products timed alone (_gemm_profile.py). Peak resident memory of the
large case is measured in fresh subprocesses, one per framework.

Usage:
    python bench/training.py [--quick] [--threads 2] [--json PATH] [--cases tiny,medium]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vgp_native as vn
from _cpu import describe_cpu
from _gemm_profile import format_share, gemm_share
from _numpy_reference import NumpyNet, Spec
from vgp_native.layers import Activation, BatchNormalization, Dense, Residual
from vgp_native.models import Sequential

# name: (input width, batch size, samples per epoch, loss, output width)
CASES = {
    "tiny": (2, 32, 200, "bce", 1),
    "medium": (784, 128, 128 * 16, "cce", 10),
    "large": (1024, 256, 256 * 4, "mse", 1024),
    "residual": (512, 256, 256 * 8, "mse", 512),
}


def _data(case: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    in_dim, _, n, loss, out = CASES[case]
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, in_dim)).astype(np.float32)
    if loss == "bce":
        y = (x[:, 0] * x[:, 1] > 0).astype(np.float32).reshape(-1, 1)
    elif loss == "cce":
        y = rng.integers(0, out, size=n)
    else:
        y = rng.normal(size=(n, out)).astype(np.float32)
    return x, y


# -- the three implementations of each case -------------------------------------------------


def vgp_model(case: str) -> Sequential:
    m = Sequential(seed=0)
    if case == "tiny":
        m.add(Dense(10, "sigmoid", input_dim=2))
        for _ in range(7):
            m.add(Dense(10, "sigmoid"))
        m.add(Dense(1, "sigmoid"))
        m.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    elif case == "medium":
        m.add(Dense(256, "relu", input_dim=784))
        for _ in range(3):
            m.add(Dense(256, "relu"))
        m.add(Dense(10, "softmax"))
        m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    elif case == "large":
        for i in range(8):
            m.add(Dense(1024, input_dim=1024 if i == 0 else None))
            m.add(BatchNormalization())
            m.add(Activation("relu"))
        m.add(Dense(1024))
        m.compile(loss="mse", optimizer="adam")
    else:
        for _ in range(8):
            m.add(
                Residual(
                    [
                        Dense(512),
                        BatchNormalization(),
                        Activation("relu"),
                        Dense(512),
                        BatchNormalization(),
                    ],
                    activation="relu",
                )
            )
        m.add(Dense(512))
        m.build(512)
        m.compile(loss="mse", optimizer="adam")
    return m


def numpy_specs(case: str) -> tuple[list[Spec], str]:
    if case == "tiny":
        return [Spec("dense", 10, "sigmoid") for _ in range(8)] + [Spec("dense", 1)], "bce"
    if case == "medium":
        return [Spec("dense", 256, "relu") for _ in range(4)] + [Spec("dense", 10)], "cce"
    if case == "large":
        body = [s for _ in range(8) for s in (Spec("dense", 1024), Spec("bn"), Spec("relu"))]
        return [*body, Spec("dense", 1024)], "mse"
    block = [Spec("dense", 512), Spec("bn"), Spec("relu"), Spec("dense", 512), Spec("bn")]
    return [Spec("residual", children=block) for _ in range(8)] + [Spec("dense", 512)], "mse"


def torch_model(torch, case: str):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, w: int) -> None:
            super().__init__()
            self.f = nn.Sequential(
                nn.Linear(w, w),
                nn.BatchNorm1d(w, eps=1e-3),
                nn.ReLU(),
                nn.Linear(w, w),
                nn.BatchNorm1d(w, eps=1e-3),
            )

        def forward(self, x):
            return torch.relu(x + self.f(x))

    if case == "tiny":
        layers = [nn.Linear(2, 10), nn.Sigmoid()]
        for _ in range(7):
            layers += [nn.Linear(10, 10), nn.Sigmoid()]
        return nn.Sequential(*layers, nn.Linear(10, 1)), nn.BCEWithLogitsLoss()
    if case == "medium":
        layers = [nn.Linear(784, 256), nn.ReLU()]
        for _ in range(3):
            layers += [nn.Linear(256, 256), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(256, 10)), nn.CrossEntropyLoss()
    if case == "large":
        layers = []
        for _ in range(8):
            layers += [nn.Linear(1024, 1024), nn.BatchNorm1d(1024, eps=1e-3), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(1024, 1024)), nn.MSELoss()
    return nn.Sequential(*[Block(512) for _ in range(8)], nn.Linear(512, 512)), nn.MSELoss()


def torch_adam(torch, params):
    try:
        return torch.optim.Adam(params, lr=1e-3, eps=1e-7, fused=True), "fused"
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=1e-3, eps=1e-7), "default"


def make_runners(case: str, have_torch: bool) -> dict[str, Callable[[int], None]]:
    """One callable per framework: ``run(epochs)`` trains that many epochs on the same data."""
    _, batch, _, loss, _ = CASES[case]
    x, y = _data(case)
    runners: dict[str, Callable[[int], None]] = {}

    model = vgp_model(case)
    model.fit(x, y, epochs=1, batch_size=batch, verbose=0)
    runners["vgp_native"] = lambda e: model.fit(x, y, epochs=e, batch_size=batch, verbose=0)

    specs, nloss = numpy_specs(case)
    ref = NumpyNet(specs, x.shape[1], nloss)
    yt = y.astype(np.int64) if loss == "cce" else y
    ref.fit_epoch(x, yt, batch)

    def numpy_epochs(epochs: int) -> None:
        for _ in range(epochs):
            ref.fit_epoch(x, yt, batch)

    runners["numpy"] = numpy_epochs

    if have_torch:
        import torch

        net, crit = torch_model(torch, case)
        opt, _ = torch_adam(torch, net.parameters())
        xt = torch.from_numpy(x)
        ytt = torch.from_numpy(y.astype(np.int64) if loss == "cce" else y)
        gen = torch.Generator().manual_seed(0)

        def torch_epochs(epochs: int) -> None:
            for _ in range(epochs):
                perm = torch.randperm(xt.shape[0], generator=gen)
                for start in range(0, xt.shape[0], batch):
                    idx = perm[start : start + batch]
                    opt.zero_grad(set_to_none=True)
                    crit(net(xt[idx]), ytt[idx]).backward()
                    opt.step()

        torch_epochs(1)
        runners["torch"] = torch_epochs
    return runners


#: Seconds of idle between two timed runs. A library's worker threads keep
#: spinning for a while after its last call (OpenBLAS' about 0.1 s) and would
#: take the cores from whichever library runs next: PyTorch right after numpy's
#: matmul measured 2-3x slower on the medium case than alone.
PAUSE_S = 0.3


def measure(case: str, reps: int, have_torch: bool, epochs_per_rep: int) -> dict:
    runners = make_runners(case, have_torch)
    times: dict[str, list[float]] = {k: [] for k in runners}
    names = list(runners)
    for r in range(reps):
        # Interleaved (noise hits all alike), each library after a pause, the
        # order rotated so that none always follows the same one.
        for name in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(PAUSE_S)
            t0 = time.perf_counter()
            runners[name](epochs_per_rep)
            times[name].append((time.perf_counter() - t0) / epochs_per_rep)
    _, batch, n, _, _ = CASES[case]
    steps = -(-n // batch)
    row = {"case": case, "batch": batch, "samples": n, "steps_per_epoch": steps}
    for name, ts in times.items():
        row[f"{name}_ms_per_epoch"] = statistics.median(ts) * 1e3
        row[f"{name}_ms_per_step"] = statistics.median(ts) * 1e3 / steps
    base = row["vgp_native_ms_per_epoch"]
    row["speedup_vs_numpy"] = row["numpy_ms_per_epoch"] / base
    if "torch_ms_per_epoch" in row:
        row["speedup_vs_torch"] = row["torch_ms_per_epoch"] / base
    time.sleep(PAUSE_S)
    row.update(gemm_share(runners["vgp_native"], epochs_per_rep))
    return row


def _memory_probe(framework: str, threads: int) -> None:
    """Runs in a subprocess: train the large case two epochs with one framework only,
    print the process's peak resident memory (MiB)."""
    vn.set_num_threads(threads)
    case = "large"
    _, batch, _, _, _ = CASES[case]
    x, y = _data(case)
    if framework == "vgp_native":
        model = vgp_model(case)
        model.fit(x, y, epochs=2, batch_size=batch, verbose=0)
    else:
        import torch

        torch.set_num_threads(threads)
        net, crit = torch_model(torch, case)
        opt, _ = torch_adam(torch, net.parameters())
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        for _ in range(2):
            for start in range(0, xt.shape[0], batch):
                opt.zero_grad(set_to_none=True)
                crit(net(xt[start : start + batch]), yt[start : start + batch]).backward()
                opt.step()
    print(_peak_rss_mib())


def _peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM belongs to the address space,
    which exec replaces; getrusage's ru_maxrss would carry over the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_memory(framework: str, threads: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-probe", framework, "--threads", str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def limit_blas_threads(threads: int) -> str:
    """numpy's BLAS on ``threads`` threads, as vgp-native and PyTorch (threadpoolctl,
    from here on); what it runs on, in words."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "its default (threadpoolctl is not installed)"
    threadpool_limits(limits=threads, user_api="blas")
    return str(threads)


def run(quick: bool = False, threads: int = 2, cases: list[str] | None = None) -> list[dict]:
    """Measure every case; returns one row per case (and a memory row for large)."""
    try:
        import torch

        torch.set_num_threads(threads)
        have_torch = True
    except ImportError:
        have_torch = False
    vn.set_num_threads(threads)
    limit_blas_threads(threads)
    cases = cases or list(CASES)
    rows = []
    for case in cases:
        reps = 3 if quick else 7
        # tiny: a whole 100-epoch fit per repetition, as a user runs it.
        per_rep = {"tiny": 100, "medium": 2, "large": 1, "residual": 1}[case]
        rows.append(measure(case, reps, have_torch, per_rep))
    if "large" in cases and have_torch and not quick:
        large = next(r for r in rows if r["case"] == "large")
        large["vgp_native_peak_rss_mib"] = peak_memory("vgp_native", threads)
        large["torch_peak_rss_mib"] = peak_memory("torch", threads)
    return rows


def print_table(rows: list[dict]) -> None:
    head = f"{'case':<9}{'vgp ms/ep':>11}{'numpy ms/ep':>13}{'torch ms/ep':>13}"
    head += f"{'x numpy':>9}{'x torch':>9}{'vgp ms/step':>13}"
    print(head)
    print("-" * len(head))
    for r in rows:
        torch_ms = f"{r['torch_ms_per_epoch']:.3f}" if "torch_ms_per_epoch" in r else "-"
        vs_torch = f"{r['speedup_vs_torch']:.2f}" if "speedup_vs_torch" in r else "-"
        print(
            f"{r['case']:<9}{r['vgp_native_ms_per_epoch']:>11.3f}{r['numpy_ms_per_epoch']:>13.3f}"
            f"{torch_ms:>13}{r['speedup_vs_numpy']:>9.2f}{vs_torch:>9}"
            f"{r['vgp_native_ms_per_step']:>13.4f}"
        )
    print(format_share(rows))
    for r in rows:
        if "torch_peak_rss_mib" in r:
            print(
                f"peak RSS, large case: vgp_native {r['vgp_native_peak_rss_mib']:.0f} MiB, "
                f"torch {r['torch_peak_rss_mib']:.0f} MiB"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.add_argument("--memory-probe", choices=["vgp_native", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        _memory_probe(args.memory_probe, args.threads)
        return 0
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    blas = limit_blas_threads(args.threads)
    print(
        f"vgp_native {vn.__version__}, threads {args.threads} (numpy's BLAS: {blas}), "
        f"{platform.machine()}"
    )
    print(describe_cpu())
    rows = run(args.quick, args.threads, cases)
    print_table(rows)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"rows": rows, "threads": args.threads, "cpu_count": os.cpu_count()}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
