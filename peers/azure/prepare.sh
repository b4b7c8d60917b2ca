#!/usr/bin/env bash
# Installs the Azure peer: Microsoft's Azurite emulator (MIT) from npm,
# pinned, into a folder of its own. Usage: prepare.sh [dir]
# (default: $CKPT_PEERS_WORK or peers/work, then azurite). A second run with
# the same pin installed returns at once, offline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-${CKPT_PEERS_WORK:-$here/../work}/azurite}"
pin='azurite@3.37.0'
if [ -x "$dir/node_modules/.bin/azurite-blob" ] && [ "$(cat "$dir/.ckpt-pin" 2>/dev/null)" = "$pin" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "azure peer: npm not found (install nodejs and npm)" >&2; exit 1; }
start=$(date +%s)
rm -rf "$dir"
mkdir -p "$dir"
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$pin" >/dev/null
echo "$pin" > "$dir/.ckpt-pin"
echo "azure peer: $pin installed in $(( $(date +%s) - start ))s"
