# Puts llama.cpp's source, exactly as Hearth's llama-cpp-python vendors it, in the
# cache: the llama-cpp-python sdist is downloaded once and extracted once. Sourced by
# bench/build_llama_bench.sh and packaging/build_llama.sh. Needs LLAMA_VERSION, CACHE,
# ROOT and the functions say and die; sets LLAMA_SRC.
if [[ -n "${PYTHON:-}" ]]; then PY="$PYTHON"
elif [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"
else PY=python3; fi
SDIST_DIR="$CACHE/sdist"
sdist="$SDIST_DIR/llama_cpp_python-$LLAMA_VERSION.tar.gz"
if [[ ! -s "$sdist" ]]; then
    say "downloading the llama-cpp-python $LLAMA_VERSION sdist"
    mkdir -p "$SDIST_DIR"
    "$PY" -m pip --disable-pip-version-check download -q --no-deps --no-binary :all: \
        "llama-cpp-python==$LLAMA_VERSION" -d "$SDIST_DIR" >&2 \
        || die "pip could not download llama-cpp-python==$LLAMA_VERSION"
    [[ -s "$sdist" ]] || die "pip did not leave $sdist"
fi
SRC="$CACHE/src/llama_cpp_python-$LLAMA_VERSION"
# The marker file is written last, so a half-done extraction is redone.
if [[ ! -f "$SRC/.extracted" ]]; then
    say "extracting $(basename "$sdist")"
    rm -rf "$SRC"
    mkdir -p "$CACHE/src"
    tar -xzf "$sdist" -C "$CACHE/src"
    [[ -f "$SRC/vendor/llama.cpp/CMakeLists.txt" ]] || die "no vendor/llama.cpp in $sdist"
    touch "$SRC/.extracted"
fi
LLAMA_SRC="$SRC/vendor/llama.cpp"
