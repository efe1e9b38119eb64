#!/usr/bin/env bash
# Sets Hearth up (see setup.sh; seconds after the first time) and launches the
# desktop app. Arguments are passed to `hearth`, e.g. --home DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/hearth" "$@"
