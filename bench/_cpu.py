"""The CPU line the benchmarks print before their tables: the detected CPU, its
caches, vector ISA and FMA throughput, and the GEMM kernel, register tile and
blocks chosen on it (``vgp_native.ops.cpu_info()``)."""

from __future__ import annotations

from typing import Any

from vgp_native import ops


def _size(nbytes: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale and nbytes % scale == 0:
            return f"{nbytes // scale} {unit}"
    return f"{nbytes} B"


def _cache(name: str, c: dict[str, int]) -> str:
    if not c["size"]:
        return f"{name} none"
    shared = f" shared by {c['sharing']}" if c["sharing"] > 1 else ""
    return f"{name} {_size(c['size'])} {c['ways']}-way{shared}"


def _gemm(dtype: str, g: dict[str, Any]) -> str:
    level = f", micro-panels in L{g['panel_level']}" if g["panel_level"] else ""
    return (
        f"{dtype} {g['kernel']} {g['mr']}x{g['nr']}, KC {g['kc']} MC {g['mc']} NC {g['nc']}"
        f"{level} ({g['source']})"
    )


def describe_cpu(info: dict[str, Any] | None = None) -> str:
    """Three lines: CPU and FMA class; caches; GEMM kernel, tile and blocks per dtype."""
    info = info or ops.cpu_info()
    cpu = (
        f"CPU: {info['brand'] or 'unknown'} ({info['vendor'] or '?'} family "
        f"{info['family']:#x} model {info['model']:#x}), {info['logical_cpus']} logical CPUs, "
        f"{info['isa']}, FMA {info['fma_class']}"
    )
    caches = ", ".join(_cache(n, info[k]) for n, k in (("L1d", "l1d"), ("L2", "l2"), ("L3", "l3")))
    gemm = "; ".join(_gemm(d, info["gemm"][d]) for d in ("float32", "float64"))
    return f"{cpu}\ncaches ({info['cache_source']}): {caches}\nGEMM {gemm}"
