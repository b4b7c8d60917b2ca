#!/usr/bin/env bash
# Stops the YARN peer of WORKDIR: its JVM (whose shutdown hook kills the
# Flink application and stops YARN), then any container process YARN
# started for it that is still there — only processes whose working
# directory lies inside WORKDIR (the NodeManager's container dirs), so
# nothing else on the machine is touched.
#
#   stop.sh WORKDIR
set -uo pipefail
work="$(cd "${1:?usage: stop.sh WORKDIR}" 2>/dev/null && pwd)" || exit 0
containers() {
  for p in /proc/[0-9]*; do
    cwd="$(readlink "$p/cwd" 2>/dev/null)" || continue
    case "$cwd" in "$work"/*) echo "${p#/proc/}" ;; esac
  done
}
if [ -f "$work/yarn.pid" ]; then
  pid="$(cat "$work/yarn.pid")"
  if grep -q YarnPeer "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$work/yarn.pid"
fi
left="$(containers)"
if [ -n "$left" ]; then
  kill $left 2>/dev/null
  sleep 1
  left="$(containers)"
  [ -n "$left" ] && kill -9 $left 2>/dev/null
fi
exit 0
