"""Whole-process reliability (issue 6), each check in a child interpreter.

- Memory: 2,000 compile/fit/predict cycles keep the resident set flat, and a
  model too large for memory is a MemoryError, natively (std::bad_alloc) and
  in numpy, also under an address-space limit (RLIMIT_AS) that keeps the test
  from eating the machine.
- Malformed files: a model file that declares an enormous weight is refused
  within a small address-space limit (never allocated).
- Interrupts: a real SIGINT during a long native epoch returns control within
  a second, History holds the completed epochs and the model goes on working;
  inside one huge batch, the batch is abandoned before its update; amid many
  short epochs run per native call, History holds exactly the completed ones.

Each child prints one JSON line that the test reads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import vgp_native

SANITIZED = os.environ.get("VGP_SANITIZED") == "1"
# The package the tests import, for the children.
PACKAGE_ROOT = str(Path(vgp_native.__file__).resolve().parent.parent)

PRELUDE = """
import json, os, resource, sys, time
import numpy as np
import vgp_native as vn
from vgp_native.layers import BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential, load_model

def limit_address_space(gib):
    limit = int(gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def report(**values):
    print("RESULT " + json.dumps(values), flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    return env


def _child(code: str) -> subprocess.Popen:
    script = PRELUDE + textwrap.dedent(code)
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _communicate(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """The child's output; a child past its timeout is killed, never left running."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise


def _result(proc: subprocess.Popen, timeout: float) -> dict[str, Any]:
    return _parse_result(proc, *_communicate(proc, timeout))


def _parse_result(proc: subprocess.Popen, out: str, err: str) -> dict[str, Any]:
    assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{out}\n{err}"
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines, f"child reported nothing:\n{out}\n{err}"
    return json.loads(lines[-1][len("RESULT ") :])


def _run(code: str, timeout: float = 300) -> dict[str, Any]:
    return _result(_child(code), timeout)


no_asan_rss = pytest.mark.skipif(
    SANITIZED, reason="ASan keeps freed memory in a quarantine: RSS does not measure the library"
)
no_asan_rlimit = pytest.mark.skipif(
    SANITIZED,
    reason="ASan reserves terabytes of shadow address space; a process cannot start under "
    "RLIMIT_AS, and its operator new aborts instead of throwing std::bad_alloc",
)

# -- memory --------------------------------------------------------------------------------------


@no_asan_rss
def test_resident_memory_is_flat_over_2000_cycles() -> None:
    # Every cycle builds, compiles, trains, predicts, evaluates and drops a
    # model with every layer kind, flow statistics and TerminateOnNaN on.
    # After 500 warm-up cycles (malloc's arenas and OpenMP's threads settle,
    # about 1 MiB), 2,000 more must leave the resident set within 5%.
    result = _run(
        """
        rng = np.random.default_rng(0)
        x = rng.normal(size=(96, 6)).astype(np.float32)
        y = rng.integers(0, 3, size=96)

        def cycle(i):
            model = Sequential(seed=i)
            model.add(Dense(32, "relu", input_dim=6))
            model.add(BatchNormalization())
            model.add(Residual([Dense(32, "tanh"), Dropout(0.1), Dense(32)], activation="relu"))
            model.add(Dense(3, "softmax"))
            model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                          metrics=["accuracy"])
            cbs = [vn.callbacks.GradientFlow(), vn.callbacks.TerminateOnNaN()]
            model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=cbs)
            model.predict(x, verbose=0)
            model.evaluate(x, y, verbose=0)

        import gc
        for i in range(500):
            cycle(i)
        gc.collect()
        warm = rss_bytes()
        trace = []
        for i in range(2000):
            cycle(500 + i)
            if i % 250 == 249:
                gc.collect()
                trace.append(rss_bytes())
        report(warm=warm, end=trace[-1], trace=trace)
        """,
        timeout=900,
    )
    growth = result["end"] / result["warm"] - 1.0
    steps = ", ".join(f"{t / 2**20:.1f}" for t in result["trace"])
    print(
        f"RSS after warm-up {result['warm'] / 2**20:.1f} MiB, every 250 cycles: {steps} MiB "
        f"({100 * growth:+.2f}% after 2000)"
    )
    assert growth < 0.05


@no_asan_rlimit
def test_a_model_too_large_for_memory_is_a_memory_error() -> None:
    # 4 GiB of address space for the child: the interpreter, numpy and the
    # extension fit, a 10**6 x 10**6 layer (4 TB) or a 2 GiB native buffer does not.
    result = _run(
        """
        import vgp_native._core as core
        limit_address_space(4)
        outcomes = {}

        def attempt(name, f):
            try:
                f()
                outcomes[name] = "ok"
            except MemoryError as exc:
                outcomes[name] = "MemoryError: " + str(exc)[:80]

        def keras_style():
            m = Sequential(seed=0)
            m.add(Dense(10**6, input_dim=10**6))
            m.add(Dense(10**6))

        def native_network():
            specs = [{"kind": "dense", "units": 10**6}, {"kind": "dense", "units": 10**6}]
            core.Network32(specs, 10**6, 0)

        def huge_batch():
            # The weights fit; the outputs and buffers of a 2**27-row batch do not.
            m = Sequential(seed=0)
            m.add(Dense(64, input_dim=1))
            m.predict(np.zeros((2**27, 1), np.float32), batch_size=2**27, verbose=0)

        def compile_too_big():
            # The 1 GiB kernel fits in Python, not with the native copy, its
            # gradient and Adam's two moment buffers on top.
            m = Sequential(seed=0)
            m.add(Dense(16000, input_dim=16000, kernel_initializer="zeros"))
            m.compile(loss="mse", optimizer="adam")

        for name, f in [("keras_style", keras_style), ("native_network", native_network),
                        ("huge_batch", huge_batch), ("compile", compile_too_big)]:
            attempt(name, f)
        # Still alive and working after every failed allocation.
        m = Sequential(seed=0)
        m.add(Dense(4, "relu", input_dim=3))
        m.add(Dense(1))
        m.compile(loss="mse", optimizer="sgd")
        h = m.fit(np.ones((8, 3)), np.ones(8), epochs=2, verbose=0)
        report(outcomes=outcomes, loss=h.history["loss"][-1])
        """
    )
    outcomes = result["outcomes"]
    assert outcomes["keras_style"].startswith("MemoryError")
    assert outcomes["native_network"] == "MemoryError: std::bad_alloc"
    assert outcomes["huge_batch"].startswith("MemoryError")
    assert outcomes["compile"] == "MemoryError: std::bad_alloc"
    assert result["loss"] == result["loss"]  # a number, not NaN


def test_native_allocation_failure_without_limits_is_a_memory_error() -> None:
    # No address-space limit: the native vector of 10**12 floats (4 TB) is
    # refused by the allocator and std::bad_alloc becomes MemoryError.
    if SANITIZED:
        pytest.skip("ASan's operator new aborts on an impossible size instead of throwing")
    import vgp_native._core as core

    specs = [{"kind": "dense", "units": 10**6}, {"kind": "dense", "units": 10**6}]
    with pytest.raises(MemoryError):
        core.Network32(specs, 10**6, 0)
    # An element count beyond int64 is a ValueError naming the shape.
    with pytest.raises(ValueError, match=r"shape \(1000000000000, 1000000000000\)"):
        core.Network32([{"kind": "dense", "units": 10**12}], 10**12, 0)


@no_asan_rlimit
def test_oversized_declared_shape_never_allocates(tmp_path: Path) -> None:
    # A model file whose configuration and npy header both declare a
    # (10**5, 10**5) float32 kernel (40 GB) is refused inside a 2 GiB
    # address-space limit: it is never read or allocated.
    path = tmp_path / "huge.npz"
    result = _run(
        f"""
        import io, json, zipfile
        from numpy.lib import format as npy_format
        limit_address_space(2)
        cfg = {{"format": "vgp-native", "version": 1, "n_weights": 2, "compile": None,
               "model": {{"name": "huge", "seed": 0, "dtype": "float32", "input_dim": 10**5,
                         "layers": [{{"class_name": "Dense",
                                      "config": {{"units": 10**5, "name": "d"}}}}]}}}}
        header = io.BytesIO()
        npy_format.write_array_header_1_0(
            header, {{"descr": "<f4", "fortran_order": False, "shape": (10**5, 10**5)}})
        with zipfile.ZipFile({str(path)!r}, "w") as zf:
            zf.writestr("config.json", json.dumps(cfg))
            zf.writestr("weight_00000.npy", header.getvalue() + bytes(64))
            zf.writestr("weight_00001.npy", header.getvalue())
        before = rss_bytes()
        try:
            load_model({str(path)!r})
            outcome = "loaded"
        except ValueError as exc:
            outcome = str(exc)
        report(outcome=outcome, grew=rss_bytes() - before)
        """
    )
    assert "implies 40000400000 bytes of weights" in result["outcome"]
    assert result["grew"] < 64 * 2**20


# -- interrupts ----------------------------------------------------------------------------------

TRAINER = """
import signal
# Ctrl-C as at a terminal, even when the tests run with SIGINT ignored (a
# background job of a non-interactive shell passes SIG_IGN on to its children).
signal.signal(signal.SIGINT, signal.default_int_handler)
mode = {mode!r}
rng = np.random.default_rng(0)
n = {n}
x = rng.normal(size=(n, 32)).astype(np.float32)
y = rng.normal(size=(n, 1)).astype(np.float32)
model = Sequential(seed=0)
model.add(Dense({width}, "relu", input_dim=32))
for _ in range({depth}):
    model.add(Dense({width}, "relu"))
model.add(Dense(1))
model.compile(loss="mse", optimizer="adam")
initial = model.get_weights()

class Tick(vn.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("EPOCH", epoch, time.time(), flush=True)

# The time of one forward pass over a whole batch (warm: the fastest of a few,
# the first call pays for buffers and thread start-up): a training step takes
# about three times as long (forward, backward, two products per layer).
forward = float("inf")
for _ in range(3):
    t0 = time.time()
    model.predict(x[:{batch_size}], batch_size={batch_size}, verbose=0)
    forward = min(forward, time.time() - t0)
print("START", time.time(), forward, flush=True)
try:
    # Epoch mode records gradient-flow statistics too: the interrupted epoch's
    # records must not stay pending (checked by the probe below).
    cbs = [Tick(), vn.callbacks.GradientFlow()] if mode == "epoch" else [Tick()]
    model.fit(x, y, epochs=10**6, batch_size={batch_size}, verbose=0, callbacks=cbs)
    report(interrupted=False)
except KeyboardInterrupt:
    caught = time.time()
    epochs = len(model.history.history.get("loss", []))
    unchanged = all(np.array_equal(a, b) for a, b in zip(initial, model.get_weights()))
    finite = all(bool(np.all(np.isfinite(w))) for w in model.get_weights())
    # Still usable: a probe of the gradient flow, predict and another fit work.
    from vgp_native.flow.recording import probe_record
    probe_record(model, x[:64], y[:64])
    pred = model.predict(x[:16], verbose=0)
    more = model.fit(x[:64], y[:64], epochs=1, batch_size=32, verbose=0)
    report(interrupted=True, caught=caught, epochs=epochs, unchanged=unchanged, finite=finite,
           pred_ok=bool(np.all(np.isfinite(pred))), refit=len(more.history["loss"]))
"""


def _interrupt(mode: str, delay: float, **sizes: int) -> tuple[dict[str, Any], float, int]:
    """Start a trainer, SIGINT it `delay` s after its signal line; (result, latency, ticks)."""
    proc = _child(TRAINER.format(mode=mode, **sizes))
    ticks: list[float] = []
    start = None
    for line in proc.stdout:
        if line.startswith("START"):
            start, forward = float(line.split()[1]), float(line.split()[2])
            if mode == "batch":
                # Inside the first training step whatever the machine's speed.
                delay = min(delay, 0.5 * forward)
                break
        if line.startswith("EPOCH"):
            ticks.append(float(line.split()[2]))
            if len(ticks) == 2:
                break
    assert start is not None, proc.stderr.read()
    if mode == "epoch":
        # Into the third epoch, a fraction of an epoch after the second ended.
        time.sleep(min(delay, 0.5 * (ticks[1] - ticks[0])))
    else:
        time.sleep(delay)
    sent = time.time()
    proc.send_signal(signal.SIGINT)
    out, err = _communicate(proc, 300)
    # Epochs that ended while this process was not yet reading or sleeping
    # (a busy machine): every EPOCH line the child printed counts.
    ticks += [float(line.split()[2]) for line in out.splitlines() if line.startswith("EPOCH")]
    result = _parse_result(proc, out, err)
    return result, result["caught"] - sent, len(ticks)


def test_ctrl_c_during_a_long_native_epoch() -> None:
    # Many batches per epoch, one native call per epoch (no batch hooks).
    result, latency, ticks = _interrupt("epoch", 0.5, n=30000, width=256, depth=2, batch_size=64)
    print(f"SIGINT to KeyboardInterrupt in fit: {1000 * latency:.0f} ms")
    assert result["interrupted"] and latency < 1.0
    # The completed epochs (two, unless the machine stalled this process) are
    # in History; the interrupted one is not.
    assert ticks >= 2 and result["epochs"] == ticks
    assert result["finite"] and result["pred_ok"] and result["refit"] == 1


def test_ctrl_c_inside_one_huge_batch() -> None:
    # The whole data set is one batch of a deep network: the poll between
    # layers fires and the batch is abandoned before its update, so no epoch
    # completed and the weights are exactly the initial ones. The latency is
    # bounded by one layer's product on the batch (16000 x 96 x 96 here).
    result, latency, _ = _interrupt("batch", 1.0, n=16000, width=96, depth=20, batch_size=16000)
    print(f"SIGINT to KeyboardInterrupt inside one batch: {1000 * latency:.0f} ms")
    assert result["interrupted"] and latency < 1.0
    assert result["epochs"] == 0 and result["unchanged"]
    assert result["pred_ok"] and result["refit"] == 1


SHORT_EPOCHS = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
from vgp_native._engine import order
from vgp_native.callbacks import Callback

# One native call of a million epochs (no orders or seeds to draw between
# calls): Ctrl-C lands in native code, not in the Python between two calls,
# whose bookkeeping tests/test_training_epochs.py interrupts on purpose.
order.BLOCK_ELEMENTS = 96 * 10**6

class EpochEnd(Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass

def build():
    model = Sequential(seed=3)
    model.add(Dense(8, "sigmoid", input_dim=2))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model

rng = np.random.default_rng(0)
x = rng.normal(size=(96, 2)).astype(np.float32)
y = (x[:, 0] > x[:, 1]).astype(np.float32)
model = build()
print("START", time.time(), flush=True)
try:
    # Epochs of a few microseconds.
    model.fit(x, y, epochs=10**8, batch_size=32, shuffle=False, verbose=0)
    report(interrupted=False)
except KeyboardInterrupt:
    caught = time.time()
    history = model.history.history
    epochs = len(history["loss"])
    # The same epochs one native call each (a callback acts at every epoch's
    # end) record the same History.
    twin = build()
    twin.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0, callbacks=[EpochEnd()])
    same = (
        twin.history.history == history
        and twin.history.epoch == model.history.epoch == list(range(epochs))
    )
    more = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    report(interrupted=True, caught=caught, epochs=epochs, same=bool(same),
           refit=len(more.history["loss"]))
"""


def test_ctrl_c_amid_many_epochs_per_native_call() -> None:
    proc = _child(SHORT_EPOCHS)
    for line in proc.stdout:
        if line.startswith("START"):
            break
    time.sleep(0.5)
    sent = time.time()
    proc.send_signal(signal.SIGINT)
    result = _parse_result(proc, *_communicate(proc, 300))
    latency = result["caught"] - sent
    print(f"SIGINT to KeyboardInterrupt amid short epochs: {1000 * latency:.0f} ms")
    assert result["interrupted"] and latency < 1.0
    # Thousands of epochs ran in the one call, each recorded as the per-epoch
    # loop records it; the model trains on afterwards.
    assert result["epochs"] > 500 and result["same"] and result["refit"] == 2
