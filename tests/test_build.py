"""The extension imports and reports how it was built."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vgp_native as vn

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_a_string() -> None:
    assert isinstance(vn.__version__, str)
    assert vn.__version__.count(".") == 2


def test_set_num_threads_round_trips() -> None:
    before = vn.get_num_threads()
    try:
        vn.set_num_threads(1)
        assert vn.get_num_threads() == 1
    finally:
        vn.set_num_threads(before)
    assert vn.get_num_threads() == before


def test_set_num_threads_rejects_zero() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        vn.set_num_threads(0)


def test_a_new_build_environment_changes_no_compile_command(tmp_path: Path) -> None:
    # pip builds each install in an isolated environment at a new random path, with a
    # fresh copy of pybind11 in it, and scikit-build-core then clears the build
    # directory's CMakeFiles and cache. The persistent build directory recompiles
    # nothing only if no compile command names that path, the headers compiled
    # against keep their timestamps (CMake compiles against a copy in the build
    # tree) and the object files lie outside <build-dir>/CMakeFiles.
    cmake = shutil.which("cmake")
    if cmake is None or not (ROOT / "CMakeLists.txt").is_file():
        pytest.skip("needs cmake and the source tree")
    pybind11 = pytest.importorskip("pybind11")
    build = tmp_path / "build"
    commands = []
    for env in ("pip-build-env-a", "pip-build-env-b"):
        copy = tmp_path / env / "pybind11"
        # shutil.copy, not copy2: new timestamps, as a fresh install gives them
        shutil.copytree(Path(pybind11.__file__).parent, copy, copy_function=shutil.copy)
        subprocess.run(
            [
                cmake, "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", f"-DPython_EXECUTABLE={sys.executable}",
                f"-Dpybind11_DIR={copy / 'share' / 'cmake' / 'pybind11'}",
            ],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        entries = json.loads((build / "compile_commands.json").read_text())
        commands.append(sorted(entry["command"] for entry in entries))
        objects = [Path(entry["directory"], entry["output"]).resolve() for entry in entries]
        header = build / "pybind11-include" / "pybind11" / "pybind11.h"
        stamp = header.stat().st_mtime_ns
        if env.endswith("a"):
            first_stamp = stamp
        # What scikit-build-core does when the isolated environment has moved.
        (build / "CMakeCache.txt").unlink()
        shutil.rmtree(build / "CMakeFiles")
    assert len(commands[0]) > 10 and commands[0] == commands[1]
    assert not any("pip-build-env" in command for command in commands[0])
    assert all(path.is_relative_to((build / "core").resolve()) for path in objects)
    assert stamp == first_stamp  # unchanged content: the copy was not rewritten
