#!/usr/bin/env bash
# Stops the HDFS peer started by start.sh in WORKDIR, by the PID it recorded:
# SIGTERM, up to 10 s grace, then SIGKILL. Removes the cluster's data (logs stay).
set -uo pipefail
work="${1:?usage: stop.sh WORKDIR}"
pidfile="$work/hdfs.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
# Only signal the process if it is still our JVM (PIDs get reused).
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q MiniDFSClusterManager "/proc/$pid/cmdline" 2>/dev/null; then
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "hdfs peer: pid $pid ignored SIGTERM; killing" >&2
    kill -9 "$pid" 2>/dev/null
  fi
  echo "hdfs peer: stopped pid $pid"
fi
rm -f "$pidfile" "$work/hdfs.env"
rm -rf "$work/data"
