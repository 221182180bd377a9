"""The GEMM's CPU detection, cache-blocking and register-tile models, the
VGP_GEMM_BLOCKING override and the instrumentation (cpp/ops/gemm/).

The model follows Low et al. 2016, "Analytical modeling is enough for
high-performance BLIS": each test recomputes, from the cache geometry alone,
the ways each block occupies in the level the model assigns it, and checks
the blocks fit there.
"""

from __future__ import annotations

import math
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vgp_native as vn
from test_ops_gemm import _FORCED_SCRIPT, _run_script
from vgp_native import _core, ops

KIB, MIB = 1024, 1024 * 1024


def cache(size: int, ways: int, sharing: int = 1) -> dict[str, int]:
    return {"size": size, "ways": ways, "line": 64, "sharing": sharing}


# The CPUs the blocking must serve: L1d, L2 and L3 per the vendors' data.
CPUS = {
    "zen4": {"l1d": cache(32 * KIB, 8), "l2": cache(1 * MIB, 8), "l3": cache(32 * MIB, 16, 16)},
    "zen5": {"l1d": cache(48 * KIB, 12), "l2": cache(1 * MIB, 16), "l3": cache(32 * MIB, 16, 16)},
    "emerald_rapids": {
        "l1d": cache(48 * KIB, 12),
        "l2": cache(2 * MIB, 16),
        "l3": cache(320 * MIB, 16, 128),
    },
    "sapphire_rapids": {
        "l1d": cache(48 * KIB, 12),
        "l2": cache(2 * MIB, 16),
        "l3": cache(105 * MIB, 15, 112),
    },
    "skylake_sp": {
        "l1d": cache(32 * KIB, 8),
        "l2": cache(1 * MIB, 16),
        "l3": cache(38 * MIB + 512 * KIB, 11, 56),
    },
}
# (mr, nr, element bytes): the tiles the kernel sets instantiate.
TILES = [(16, 16, 4), (12, 32, 4), (16, 8, 8), (12, 16, 8), (6, 16, 4), (6, 8, 8), (4, 8, 4)]


def ways(nbytes: int, level: dict[str, int], share: int = 1) -> int:
    way = level["size"] // share // level["ways"]
    return -(-nbytes // way)


@pytest.mark.parametrize("fma_per_cycle", [1, 2])
@pytest.mark.parametrize(("mr", "nr", "s"), TILES)
@pytest.mark.parametrize("cpu", sorted(CPUS))
def test_blocks_fit_their_cache_levels(cpu, mr, nr, s, fma_per_cycle) -> None:
    caches = CPUS[cpu]
    l1, l2, l3 = caches["l1d"], caches["l2"], caches["l3"]
    b = _core.gemm_blocks_model(caches, mr, nr, s, fma_per_cycle)
    kc, mc, nc = b["kc"], b["mc"], b["nc"]
    assert (b["mr"], b["nr"]) == (mr, nr)
    assert kc % 8 == 0 and kc >= 8
    assert mc % mr == 0 and nc % nr == 0
    if b["panel_level"] == 1:
        # Section 4.3: both micro-panels in L1 with one way to spare, and KC
        # the largest multiple of 8 for which the B micro-panel keeps to its
        # floor((W1 - 1) / (1 + MR / NR)) ways.
        a_ways, b_ways = ways(kc * mr * s, l1), ways(kc * nr * s, l1)
        assert a_ways + b_ways <= l1["ways"] - 1
        assert (b["l1_ways_a"], b["l1_ways_b"]) == (a_ways, b_ways)
        b_budget = (l1["ways"] - 1) * nr // (nr + mr)
        assert ways((kc + 8) * nr * s, l1) > b_budget
    else:
        # One FMA per cycle: micro-panels in L2, KC about twice NC.
        assert fma_per_cycle == 1
        assert kc > _core.gemm_blocks_model(caches, mr, nr, s, 2)["kc"]
        assert ways(kc * mr * s, l2) == 1
        assert nc <= kc <= 2 * nc + 2 * nr + 8 * 2
    # Section 4.4: the B block and the A micro-panel in L2, one way to spare.
    assert ways(nc * kc * s, l2) + ways(mr * kc * s, l2) <= l2["ways"] - 1
    assert ways((nc + nr) * kc * s, l2) + ways(mr * kc * s, l2) > l2["ways"] - 1
    # Section 4.5: the A block and the B block in this core's share of L3;
    # a share no larger than L2 (a victim cache) holds the A block alone.
    share = l3["sharing"]
    victim = l3["size"] // share <= l2["size"]
    b_in_l3 = 0 if victim else ways(nc * kc * s, l3, share)
    assert ways(mc * kc * s, l3, share) + b_in_l3 <= l3["ways"] - 1
    assert ways((mc + mr) * kc * s, l3, share) + b_in_l3 > l3["ways"] - 1


def test_emerald_rapids_gives_the_measured_k_block() -> None:
    # 48 KiB 12-way L1d: the B micro-panel gets floor(11 / 2) = 5 ways of
    # 4 KiB, so KC = 5 * 4096 / (16 * 4) = 320 for a 16 x 16 float tile, the
    # block that measured best on that CPU.
    assert _core.gemm_blocks_model(CPUS["emerald_rapids"], 16, 16, 4, 2)["kc"] == 320
    # Its own tile, 12 x 32: floor(11 * 32 / 44) = 8 ways, KC = 8 * 4096 / 128.
    assert _core.gemm_blocks_model(CPUS["emerald_rapids"], 12, 32, 4, 2)["kc"] == 256


def test_zen4_streams_micro_panels_from_l2() -> None:
    # 32 KiB 8-way L1d: floor(7 / 2) = 3 ways, KC = 3 * 4096 / 64 = 192 by
    # the L1 rule; at one FMA per cycle KC = sqrt(2 * 6 * 128 KiB / 4).
    zen4 = CPUS["zen4"]
    assert _core.gemm_blocks_model(zen4, 16, 16, 4, 2)["kc"] == 192
    b = _core.gemm_blocks_model(zen4, 16, 16, 4, 1)
    assert b["panel_level"] == 2
    assert b["kc"] == int(math.sqrt(2 * 6 * 128 * KIB / 4)) // 8 * 8 == 624
    assert b["nc"] == 6 * 128 * KIB // (624 * 4) // 16 * 16


def test_l3_shared_by_more_cpus_gives_a_smaller_a_block() -> None:
    alone = dict(CPUS["zen4"], l3=cache(32 * MIB, 16, 1))
    shared = CPUS["zen4"]
    assert (
        _core.gemm_blocks_model(shared, 16, 16, 4, 2)["mc"]
        < (_core.gemm_blocks_model(alone, 16, 16, 4, 2)["mc"])
    )
    no_l3 = dict(CPUS["zen4"], l3=cache(0, 0))
    b = _core.gemm_blocks_model(no_l3, 16, 16, 4, 2)
    assert b["mc"] == b["nc"] // 16 * 16 and b["l3_ways_a"] == 0


@pytest.mark.parametrize(
    ("caches", "match"),
    [
        ({"l2": cache(MIB, 8)}, r"caches\['l1d'\]"),
        ({"l1d": cache(32 * KIB, 1), "l2": cache(MIB, 8)}, "ways >= 2"),
        ({"l1d": cache(32 * KIB, 8), "l2": cache(0, 8)}, r"caches\['l2'\]"),
    ],
)
def test_blocks_model_rejects_bad_geometry(caches, match) -> None:
    with pytest.raises(ValueError, match=match):
        _core.gemm_blocks_model(caches, 16, 16, 4, 1)
    with pytest.raises(ValueError, match="fma_per_cycle"):
        _core.gemm_blocks_model(CPUS["zen4"], 16, 16, 4, 0)


@pytest.mark.parametrize(
    ("dtype", "kernel", "fma", "tile"),
    [
        # One FMA per cycle: 16 rows x one vector, 17 loads per 16 FMAs.
        (np.float32, "avx512", 1, (16, 16)),
        (np.float64, "avx512", 1, (16, 8)),
        # Two: 16 x 1 would need 2 * 17 / 16 > 2 loads a cycle; 12 x 2 needs 1.2.
        (np.float32, "avx512", 2, (12, 32)),
        (np.float64, "avx512", 2, (12, 16)),
        (np.float32, "avx2", 2, (6, 16)),
        (np.float64, "avx2", 1, (6, 8)),
        (np.float32, "scalar", 1, (4, 8)),
    ],
)
def test_tile_model(dtype, kernel, fma, tile) -> None:
    like = np.empty(1, dtype=dtype)
    if kernel != "scalar" and not _is_x86():
        pytest.skip("the AVX kernel sets exist on x86 builds only")
    assert _core.gemm_tile_model(like, kernel, fma) == tile
    mr, nr = tile
    lanes = {"avx512": 64, "avx2": 32, "scalar": np.dtype(dtype).itemsize}[kernel]
    lanes //= np.dtype(dtype).itemsize
    nv = nr // lanes
    assert mr * nv >= 4 * fma  # enough accumulators for the FMA latency
    assert (mr + nv) * fma <= 2 * mr * nv or kernel == "scalar"  # two loads a cycle


def test_tile_model_rejects_unknown_kernel() -> None:
    with pytest.raises(ValueError, match="no kernel set 'sse9'"):
        _core.gemm_tile_model(np.empty(1, np.float32), "sse9", 1)
    with pytest.raises(ValueError, match="fma_per_cycle >= 1"):
        _core.gemm_tile_model(np.empty(1, np.float32), "scalar", 0)


def _is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _sysfs_l1d() -> int | None:
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for index in sorted(base.glob("index*")):
        try:
            if (index / "level").read_text().strip() == "1" and (
                (index / "type").read_text().strip() == "Data"
            ):
                text = (index / "size").read_text().strip()
                return int(text[:-1]) * 1024 if text.endswith("K") else int(text)
        except (OSError, ValueError):
            return None
    return None


def test_cpu_info_describes_this_cpu() -> None:
    info = ops.cpu_info()
    assert info["isa"] in ("avx512", "avx2", "scalar")
    assert info["cache_source"] in ("cpuid 4", "cpuid 0x8000001d", "sysfs", "default")
    assert info["logical_cpus"] == (os.cpu_count() or 1)
    for level in ("l1d", "l2"):
        c = info[level]
        assert c["size"] > 0 and c["ways"] >= 2 and c["line"] >= 16
        assert c["size"] % (c["ways"] * c["line"]) == 0
    assert info["l2"]["size"] > info["l1d"]["size"]
    sysfs = _sysfs_l1d()
    if sysfs is not None and info["cache_source"] != "default":
        assert info["l1d"]["size"] == sysfs
    if info["isa"] == "avx512":
        assert info["fma512_per_cycle"] in (1, 2)
    assert info["fma256_per_cycle"] in ((0,) if info["isa"] == "scalar" else (1, 2))


@pytest.mark.parametrize(("dtype", "size"), [("float32", 4), ("float64", 8)])
def test_chosen_blocks_are_the_models(dtype, size) -> None:
    info = ops.cpu_info()
    g = info["gemm"][dtype]
    assert g["kernel"] == ops.gemm_kernel_name(dtype)
    if g["source"] != "model":
        pytest.skip("VGP_GEMM_BLOCKING is set")
    fma = {"avx512": info["fma512_per_cycle"], "avx2": info["fma256_per_cycle"]}.get(g["kernel"], 1)
    like = np.empty(1, dtype=dtype)
    assert (g["mr"], g["nr"]) == _core.gemm_tile_model(like, g["kernel"], max(fma, 1))
    model = _core.gemm_blocks_model(info, g["mr"], g["nr"], size, max(fma, 1))
    assert (g["kc"], g["mc"], g["nc"], g["panel_level"]) == (
        model["kc"],
        model["mc"],
        model["nc"],
        model["panel_level"],
    )


# ---- VGP_GEMM_BLOCKING --------------------------------------------------------


def _run(script: str, **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VGP_GEMM_")}
    env.update(env_vars)
    package_root = str(Path(vn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )


def _tiles_of_this_cpu() -> list[tuple[str, str, str]]:
    """(VGP_GEMM_KERNEL, float32 tile, float64 tile) for every tile this CPU can run."""
    isa = ops.cpu_info()["isa"]
    cases = [("scalar", "4x8", "4x8")]
    if isa in ("avx2", "avx512"):
        cases.append(("avx2", "6x16", "6x8"))
    if isa == "avx512":
        cases += [("avx512", "16x16", "16x8"), ("avx512", "12x32", "12x16")]
    return cases


@pytest.mark.parametrize(("kernel", "tile32", "tile64"), _tiles_of_this_cpu())
def test_every_tile_with_small_blocks(kernel, tile32, tile64) -> None:
    # Blocks far below the shapes: several k blocks (uneven), A and B blocks,
    # edge tiles; each result within the float64 error bound and the same
    # bits on 1 and 2 threads.
    spec = f"kc=24,mc=40,nc=70;float32:tile={tile32};float64:tile={tile64}"
    out = _run_script(_FORCED_SCRIPT, VGP_GEMM_KERNEL=kernel, VGP_GEMM_BLOCKING=spec)
    for dtype, tile in (("float32", tile32), ("float64", tile64)):
        g = out["gemm"][dtype]
        mr, nr = (int(x) for x in tile.split("x"))
        assert (g["kernel"], g["mr"], g["nr"], g["source"]) == (
            kernel,
            mr,
            nr,
            "VGP_GEMM_BLOCKING",
        )
        assert g["kc"] == 24 and g["panel_level"] == 0
        assert g["mc"] == -(-40 // mr) * mr and g["nc"] == -(-70 // nr) * nr
    for dtype, m, n, k, ta, tb, ratio, same, relu_ok in out["err"]:
        case = f"{kernel} {tile32}/{tile64} {dtype} {(m, n, k)} trans_a={ta} trans_b={tb}"
        assert ratio <= 1.0, case
        assert same, f"1 vs 2 threads differ: {case}"
        assert relu_ok, case


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("kc=0", "kc must be an integer from 1 to 8192, received '0'"),
        ("float64:nc=abc", "nc must be an integer"),
        ("tile=16", r"tile must be MRxNR"),
        ("tile=7x7", "has no 7x7 tile"),
        ("depth=3", "expected items key=value with keys tile, kc, mc, nc"),
    ],
)
def test_bad_override_fails_the_import(spec, match) -> None:
    proc = _run("import vgp_native", VGP_GEMM_BLOCKING=spec)
    assert proc.returncode != 0
    assert "VGP_GEMM_BLOCKING: " in proc.stderr
    assert re.search(match, proc.stderr)


# ---- instrumentation ------------------------------------------------------------


def test_profile_counts_calls_flops_and_shapes(rng) -> None:
    a = rng.standard_normal((64, 48)).astype(np.float32)
    b = rng.standard_normal((48, 80)).astype(np.float32)
    a64 = rng.standard_normal((30, 20))
    try:
        _core.gemm_profile(True)
        ops.gemm(a, b)
        ops.gemm(a, b)
        ops.gemm(a64, a64.T.copy())
        ops.gemm(a, a, trans_a=True)
        p = _core.gemm_profile_read()
    finally:
        _core.gemm_profile(False)
    assert p["enabled"] is True
    assert p["calls"] == 4
    assert p["flops"] == 2 * (2 * 64 * 80 * 48) + 2 * 30 * 30 * 20 + 2 * 48 * 48 * 64
    assert p["seconds"] > 0
    shapes = [
        (s["m"], s["n"], s["k"], s["trans_a"], s["trans_b"], s["dtype"], s["calls"])
        for s in p["shapes"]
    ]
    assert shapes == [
        (64, 80, 48, False, False, "float32", 2),
        (30, 30, 20, False, False, "float64", 1),
        (48, 48, 64, True, False, "float32", 1),
    ]
    assert sum(s["seconds"] for s in p["shapes"]) == pytest.approx(p["seconds"])
    # Off: counters kept, new calls not counted; on again: reset.
    ops.gemm(a, b)
    after = _core.gemm_profile_read()
    assert after["enabled"] is False and after["calls"] == 4
    _core.gemm_profile(True)
    try:
        assert _core.gemm_profile_read()["calls"] == 0
    finally:
        _core.gemm_profile(False)
