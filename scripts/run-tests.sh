#!/usr/bin/env bash
# Sets Hearth up (see setup.sh) and runs every check CI runs: ruff, mypy and
# the whole pytest suite (headless Qt). Arguments are passed to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
BIN="$ROOT/.venv/bin"
echo "[tests] ruff" >&2
"$BIN/ruff" check .
"$BIN/ruff" format --check .
echo "[tests] mypy" >&2
"$BIN/mypy"
echo "[tests] pytest" >&2
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec "$BIN/python" -m pytest "$@"
