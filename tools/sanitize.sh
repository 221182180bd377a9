#!/usr/bin/env bash
# Builds the extension with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the whole test suite against it (issue 6). Clean means: no ASan report,
# no UBSan report (both abort the process, so pytest cannot pass over one),
# and every test passes.
#
#   tools/sanitize.sh [pytest args...]      e.g. tools/sanitize.sh -x -q
#
# The build goes through scikit-build-core, like a normal install, with the
# CMake option VGP_SANITIZE=ON (-fsanitize=address,undefined,
# -fno-sanitize-recover=undefined) and debug info, into build/sanitize/ and a
# package folder of its own (build/sanitize/site), so it never touches an
# in-place build or an installed copy. Needs: the active Python with pip,
# numpy, pytest and hypothesis; gcc/g++ with libasan (comes with gcc).
#
# The Python interpreter is not instrumented, so libasan is preloaded, and
# libstdc++ right after it: the interpreter does not link libstdc++, and when
# ASan starts without it, its __cxa_throw interceptor finds no real function
# and the first C++ exception (every ValueError raised natively) aborts the
# run with 'CHECK failed: ... real___cxa_throw != 0'. ASAN_OPTIONS:
#   detect_leaks=0            CPython keeps much of its memory until exit, by
#                             design; LeakSanitizer would report all of it.
#   allocator_may_return_null=1
#                             an impossible malloc (the MemoryError tests ask
#                             numpy for terabytes) returns NULL, as glibc
#                             does, instead of aborting the run.
#   abort_on_error=1          a report ends the run with a failing status.
# UBSan stops at the first report with a stack trace.
#
# PyTorch's parity tests run too: torch loads and computes with libasan
# preloaded (its own libraries are not instrumented), so nothing is deselected.
#
# Under the sanitizers VGP_SANITIZED=1 is set for the tests. The few tests
# that read it skip themselves with the reason, because ASan changes what
# they measure, not because of a finding: resident-memory growth (ASan holds
# freed memory in a quarantine), address-space limits (ASan reserves
# terabytes of shadow address space, so a process under RLIMIT_AS cannot
# start) and std::bad_alloc (ASan's operator new reports an impossible size
# and aborts; it never throws). They run in the normal test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
CXX=${CXX:-g++}
libasan=$("$CXX" -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
  echo "sanitize.sh: libasan not found ($CXX -print-file-name=libasan.so gave '$libasan')" >&2
  exit 2
fi
libasan=$(readlink -f "$libasan")
libstdcxx=$(readlink -f "$("$CXX" -print-file-name=libstdc++.so)")
preload="$libasan $libstdcxx"

site=build/sanitize/site
rm -rf "$site"
echo "== building the sanitized extension into $site"
"$PYTHON" -m pip install --quiet --no-deps --target "$site" \
  -C cmake.define.VGP_SANITIZE=ON \
  -C cmake.build-type=RelWithDebInfo \
  -C "build-dir=build/sanitize/{wheel_tag}" \
  .

core=$(ls "$site"/vgp_native/_core*.so)
# grep reads all of nm's output (-q would stop early, nm would get SIGPIPE and
# pipefail would report a failure for an instrumented module).
if ! nm -D "$core" | grep "__asan_init" >/dev/null; then
  echo "sanitize.sh: $core is not instrumented (no __asan_init)" >&2
  exit 2
fi

export PYTHONPATH="$PWD/$site${PYTHONPATH:+:$PYTHONPATH}"
export VGP_SANITIZED=1
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# The tests must import the sanitized build, not the in-place one.
LD_PRELOAD="$preload" "$PYTHON" - "$PWD/$site" <<'PY'
import sys
import vgp_native._core as core
if not core.__file__.startswith(sys.argv[1]):
    sys.exit(f"sanitize.sh: imported {core.__file__}, expected the build under {sys.argv[1]}")
print(f"== testing {core.__file__}")
PY

LD_PRELOAD="$preload" "$PYTHON" -m pytest -p no:cacheprovider "$@"
