#!/usr/bin/env bash
# Builds the llama.cpp libraries the Hearth bundle ships: the same source as
# Hearth's llama-cpp-python (its sdist's vendor/llama.cpp), with the CPU kernels
# chosen at run time as llama.cpp's own releases do. GGML_BACKEND_DL makes each
# backend a loadable library, and GGML_CPU_ALL_VARIANTS builds one CPU library per
# x86-64 level (sandybridge, haswell, skylakex, icelake, alderlake, sapphirerapids,
# zen4, ...); ggml scores them against the CPU it runs on and loads the best one.
# So one bundle runs on an old AVX2 laptop and uses AVX-512 or AMX where present.
#
# The Python package does not install those variant libraries (see
# ../shared/ENVIRONMENT.md), so this script builds them with CMake and the bundle
# puts them beside libllama.so, where app/engine/build.py has ggml load them.
#
# Output: the last line of stdout is a folder holding libllama.so, libggml*.so,
# libmtmd.so and libggml-cpu-*.so (cached; a second run prints it at once).
# Environment: PYTHON (pip that downloads the sdist; default .venv/bin/python).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLAMA_VERSION="0.3.36"   # keep in step with scripts/setup.sh and pyproject.toml
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/hearth"

say() { printf '\033[1m[build-llama]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[build-llama] error:\033[0m %s\n' "$*" >&2; exit 1; }

case "$(uname -m)" in
    x86_64|amd64) VARIANTS="-DGGML_CPU_ALL_VARIANTS=ON" ;;
    aarch64|arm64) VARIANTS="-DGGML_CPU_ALL_VARIANTS=ON" ;;
    *) die "no CPU variants are defined for $(uname -m)" ;;
esac
# - GGML_NATIVE=OFF: never the build machine's own instructions.
# - GGML_BACKEND_DL + CPU variants: kernels picked at run time (see above).
# - BUILD_SHARED_LIBS: the binding loads libllama.so, libggml*.so with ctypes.
# - No tools, tests, examples, server or curl: the libraries are all it needs.
# - OpenMP left ON, as in the Python package (its thread pool is what Hearth measures).
ARGS="-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON $VARIANTS \
-DBUILD_SHARED_LIBS=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_COMMON=ON \
-DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON \
-DCMAKE_INSTALL_RPATH=\$ORIGIN"
key="$(printf '%s' "$ARGS" | cksum | cut -d' ' -f1)"
OUT="$CACHE/llama-dl/llama-$LLAMA_VERSION-$(uname -m)-$key"
if [[ -f "$OUT/.complete" ]]; then
    say "cached"
    printf '%s\n' "$OUT"
    exit 0
fi

source "$ROOT/scripts/llama-source.sh"

BUILD="$CACHE/llama-dl/build-$LLAMA_VERSION-$(uname -m)-$key"
jobs="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
gen=""
command -v ninja >/dev/null && gen="-G Ninja"
mkdir -p "$BUILD"
say "configuring llama.cpp with every CPU variant in $BUILD"
# shellcheck disable=SC2086
cmake -S "$LLAMA_SRC" -B "$BUILD" $gen $ARGS >&2 || die "cmake configure failed (see above)"
say "building with $jobs jobs: every CPU variant is compiled, so this takes a while once"
start=$SECONDS
# The CPU variants are MODULE libraries that nothing links to: build every target
# but the tools' binaries (mtmd is the binding's multimodal library).
variant_targets="$(cmake --build "$BUILD" --target help 2>/dev/null \
    | grep -oE 'ggml-cpu-[a-z0-9_]+' | sort -u | tr '\n' ' ')"
[[ -n "$variant_targets" ]] || die "cmake defines no ggml-cpu-* variant targets"
# shellcheck disable=SC2086
cmake --build "$BUILD" --parallel "$jobs" --target llama ggml mtmd $variant_targets >&2 \
    || die "the build failed (see the compiler output above)"

rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
# Real files only, named as the loader asks for them (libllama.so, not .so.0.5.0):
# the binding opens libllama.so, which needs libggml.so.0 & co, so keep both names.
find "$BUILD" -name '*.so*' \( -type f -o -type l \) -path '*/bin/*' -exec cp -a {} "$OUT.tmp/" \;
ls "$OUT.tmp"/libggml-cpu-*.so >/dev/null 2>&1 || die "no CPU variant libraries were built"
[[ -e "$OUT.tmp/libllama.so" ]] || die "libllama.so was not built"
touch "$OUT.tmp/.complete"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
say "built in $((SECONDS - start)) s: $(ls "$OUT" | tr '\n' ' ')"
printf '%s\n' "$OUT"
