#!/usr/bin/env bash
# Wraps a one-folder bundle into a .deb with dpkg-deb: the program under /opt/hearth,
# `hearth` on PATH, the launcher entry, icons in the usual sizes, AppStream metainfo.
# Usage: build_deb.sh BUNDLE_DIR VERSION OUT_DIR   (prints the .deb's path last)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUNDLE="$1"; VERSION="$2"; OUT="$3"
say() { printf '\033[1m[deb]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[deb] error:\033[0m %s\n' "$*" >&2; exit 1; }
[[ -x "$BUNDLE/hearth" ]] || die "no bundle at $BUNDLE"
case "$(uname -m)" in
    x86_64) debarch=amd64 ;;
    aarch64) debarch=arm64 ;;
    *) debarch="$(dpkg --print-architecture)" ;;
esac
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
    "$STAGE/usr/share/metainfo" "$STAGE/DEBIAN"
cp -a "$BUNDLE" "$STAGE/opt/hearth"
ln -s ../../opt/hearth/hearth "$STAGE/usr/bin/hearth"
install -m644 "$HERE/hearth.desktop" "$STAGE/usr/share/applications/hearth.desktop"
sed "s/@VERSION@/$VERSION/; s/@DATE@/$(date -u +%Y-%m-%d)/" "$HERE/hearth.metainfo.xml" \
    > "$STAGE/usr/share/metainfo/io.github.hearth_desktop.Hearth.metainfo.xml"
"$ROOT/.venv/bin/python" "$HERE/render_icons.py" "$ROOT/resources/icons/hearth.svg" \
    "$STAGE/usr/share/icons/hicolor" >&2 || die "could not render the icons"
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net --explain \
        "$STAGE/usr/share/metainfo/io.github.hearth_desktop.Hearth.metainfo.xml" >&2 \
        || die "the AppStream metainfo does not validate"
fi
size_kb="$(du -sk "$STAGE" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: hearth
Version: $VERSION
Architecture: $debarch
Maintainer: Hearth developers <hearth-desktop@users.noreply.github.com>
Installed-Size: $size_kb
Depends: libc6 (>= 2.31), libgomp1, libgl1, libegl1, libglib2.0-0, libfontconfig1, libfreetype6, libdbus-1-3, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-render-util0, libxcb-image0, libxcb-xinerama0, libxcb-randr0
Section: utils
Priority: optional
Homepage: https://github.com/hearth-desktop/hearth
Description: run open language models on your own computer, offline and private
 Hearth browses the Hugging Face Hub for GGUF models, shows which fits this
 computer, downloads them resumably, and chats with them through llama.cpp,
 with documents and citations. Chats stay in one SQLite file on this computer.
CONTROL
mkdir -p "$OUT"
deb="$OUT/hearth_${VERSION}_${debarch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$deb" >&2
printf '%s\n' "$deb"
