#!/usr/bin/env bash
# Installs the S3 peer: moto's server mode (Apache-2.0) from PyPI, pinned,
# into a virtualenv of its own. Usage: prepare.sh [venv-dir]
# (default: $CKPT_PEERS_WORK or peers/work, then s3-venv). A second run with
# the same pin installed returns at once, offline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-${CKPT_PEERS_WORK:-$here/../work}/s3-venv}"
pin='moto[server]==5.2.5'
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.ckpt-pin" 2>/dev/null)" = "$pin" ]; then
  exit 0
fi
command -v python3 >/dev/null || { echo "s3 peer: python3 not found (install python3 and python3-venv)" >&2; exit 1; }
start=$(date +%s)
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$pin"
echo "$pin" > "$venv/.ckpt-pin"
echo "s3 peer: $pin installed in $(( $(date +%s) - start ))s"
