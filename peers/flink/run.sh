#!/usr/bin/env bash
# Runs the Flink peer by hand: peers/flink/run.sh [--flink 1.20.5] MODE ARGS...
# (MODE: serve, resume, throughput, load-metadata, spa-serve; see src/main/java/dev/ckpt/peer/Peer.java).
# Example: peers/flink/run.sh load-metadata /path/to/chk-3
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
v=2.3.0
if [ "${1:-}" = --flink ]; then v=$2; shift 2; fi
out="$here/target/flink-$v"
[ -s "$out/classpath.txt" ] || bash "$here/prepare.sh" >&2
export FLINK_PLUGINS_DIR="$out/plugins"
exec java @"$here/jvm17.args" ${CKPT_FLINK_JAVA_OPTS:--Xmx1g} \
  -cp "$out/classes:$(cat "$out/classpath.txt")" dev.ckpt.peer.Peer "$@"
