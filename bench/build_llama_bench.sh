#!/usr/bin/env bash
# Builds llama.cpp's `llama-bench` from the very source and with the very CMake
# flags that scripts/setup.sh uses for Hearth's llama-cpp-python, so that its
# numbers describe the engine Hearth actually runs (not an upstream build with
# -march=native, which setup.sh deliberately avoids).
#
# The binary is cached; the last line of stdout is its path, everything else
# goes to stderr, so callers can do:   bench="$(bench/build_llama_bench.sh | tail -1)"
# Idempotent: a second run prints the cached path at once.
#
# Environment knobs (same meaning as in scripts/setup.sh):
#   PYTHON=python3                        interpreter whose pip downloads the sdist
#                                         (default: .venv/bin/python if present)
#   HEARTH_LLAMA_BACKEND=cpu|cuda|metal   force a llama.cpp backend (default: auto)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLAMA_VERSION="0.3.36"   # keep in step with scripts/setup.sh and pyproject.toml
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/hearth"

say() { printf '\033[1m[llama-bench]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[llama-bench] error:\033[0m %s\n' "$*" >&2; exit 1; }

# --- 1. Flags: the same as scripts/setup.sh uses for the wheel -------------
source "$ROOT/scripts/llama-flags.sh"
tag="$LLAMA_VERSION-$(uname -m)-$variant-$flags_key"

# Flags of our own, on top of the shared ones. They change how the tool is
# packaged, not the compute kernels:
# - Release: what scikit-build-core builds the Python package as.
# - LLAMA_CURL=OFF: llama-cpp-python forces it off too (deprecated and a no-op
#   in this llama.cpp, kept so the intent survives an upgrade).
# - BUILD_SHARED_LIBS=OFF: one self-contained binary that can sit in a cache
#   (the wheel links the same code as shared libraries).
# - LLAMA_BUILD_{TESTS,EXAMPLES,SERVER,APP}=OFF: configure only what
#   llama-bench needs (it lives under tools/, so TOOLS and COMMON stay ON).
# - GGML_OPENMP is left at its default (ON): the Python package reports
#   OPENMP = 1 in llama_print_system_info(), and the thread pool matters a lot
#   to the numbers.
# - LLAMA_OPENSSL=OFF: only the HTTP client (model downloads) uses it.
BENCH_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF"
ALL_ARGS="$LLAMA_CMAKE_ARGS $BENCH_CMAKE_ARGS"

OUT_DIR="$CACHE/llama-bench"
BIN="$OUT_DIR/llama-bench-$tag"
say "backend $variant; shared flags (from setup.sh): $LLAMA_CMAKE_ARGS"
say "bench-only flags: $BENCH_CMAKE_ARGS"

# --- 2. Cached? ---------------------------------------------------------------
# The name only carries the shared flags (to match the wheel), so the full
# command line is kept beside the binary; a change to BENCH_CMAKE_ARGS rebuilds.
if [[ -x "$BIN" && "$(cat "$BIN.cmake-args" 2>/dev/null)" == "$ALL_ARGS" ]]; then
    say "cached"
    printf '%s\n' "$BIN"
    exit 0
fi

# --- 3. Source: the llama-cpp-python sdist, which vendors llama.cpp ----------
# The same sdist pip builds the wheel from, so the llama.cpp commit is
# exactly Hearth's (upstream tags would not say which commit 0.3.36 vendors).
source "$ROOT/scripts/llama-source.sh"

# --- 4. Build only the llama-bench target ------------------------------------
# The build directory is kept (keyed like the binary), so an interrupted build
# resumes instead of starting over.
BUILD="$OUT_DIR/build-$tag"
jobs="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
gen=""
command -v ninja >/dev/null && gen="-G Ninja"   # what scikit-build-core uses too
# A build dir configured with other flags or another generator is started afresh.
if [[ -f "$BUILD/CMakeCache.txt" && "$(cat "$BUILD/.cmake-args" 2>/dev/null)" != "$ALL_ARGS $gen" ]]; then
    rm -rf "$BUILD"
fi
mkdir -p "$BUILD"
say "configuring llama.cpp in $BUILD"
start=$SECONDS
# Word splitting of the flag strings is intended (they are single-token flags,
# exactly as setup.sh passes them through CMAKE_ARGS).
# shellcheck disable=SC2086
cmake -S "$LLAMA_SRC" -B "$BUILD" $gen $ALL_ARGS >&2 \
    || die "cmake configure failed (see above)"
printf '%s' "$ALL_ARGS $gen" > "$BUILD/.cmake-args"
say "building llama-bench with $jobs jobs; this takes a few minutes once"
cmake --build "$BUILD" --target llama-bench --parallel "$jobs" >&2 \
    || die "building llama-bench failed (see the compiler output above)"
built="$BUILD/bin/llama-bench"
[[ -x "$built" ]] || die "the build did not produce $built"
"$built" --help >/dev/null 2>&1 || die "$built does not run"

# Installed by copy-then-rename so a reader never sees a half-written binary.
cp "$built" "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"
printf '%s' "$ALL_ARGS" > "$BIN.cmake-args"
say "built in $((SECONDS - start)) s: $BIN"
printf '%s\n' "$BIN"
