#!/usr/bin/env bash
# Installs the GCS peer: fake-gcs-server (BSD-2-Clause), a Go program, pinned,
# built from the Go module proxy into a bin folder of its own.
# Usage: prepare.sh [bin-dir] (default: $CKPT_PEERS_WORK or peers/work, then
# gcs-bin). A second run with the same pin installed returns at once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CKPT_PEERS_WORK:-$here/../work}/gcs-bin}"
pin='github.com/fsouza/fake-gcs-server@v1.56.1'
if [ -x "$bin/fake-gcs-server" ] && [ "$(cat "$bin/.ckpt-pin" 2>/dev/null)" = "$pin" ]; then
  exit 0
fi
command -v go >/dev/null || { echo "gcs peer: go not found" >&2; exit 1; }
start=$(date +%s)
mkdir -p "$bin"
rm -f "$bin/fake-gcs-server" "$bin/.ckpt-pin"
# Outside any module, so the project's go.mod is neither read nor changed.
(cd "$bin" && GOBIN="$bin" GOFLAGS=-mod=mod GOWORK=off go install "$pin")
echo "$pin" > "$bin/.ckpt-pin"
echo "gcs peer: $pin installed in $(( $(date +%s) - start ))s"
