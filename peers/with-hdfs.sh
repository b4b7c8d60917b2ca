#!/usr/bin/env bash
# Runs a command with ONE real HDFS shared by every test binary:
#
#   peers/with-hdfs.sh go test ./...
#
# Starts peers/hdfs in peers/work/hdfs-shared, exports CKPT_HDFS_ADDR,
# CKPT_HDFS_CONF_DIR and CKPT_HDFS_WORK (peers.HDFS(t) then reuses it instead
# of starting one JVM per package), runs the command, and always stops the
# peer afterwards (trap). Should this script be killed outright (SIGKILL, a
# process-group kill), the peer still goes: its JVM reads a lifeline FIFO
# that only this script holds open for writing, and exits at EOF. Without Java/Maven the command runs without the peer and
# the HDFS tests skip loudly — or fail under CI=true / CKPT_REQUIRE_PEERS=1.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${CKPT_PEERS_WORK:-$root/peers/work}/hdfs-shared"
required=false
if [ "${CI:-}" = true ] || [ "${CKPT_REQUIRE_PEERS:-}" = 1 ]; then required=true; fi

if [ -n "${CKPT_HDFS_ADDR:-}" ]; then
  echo "with-hdfs: using the HDFS at $CKPT_HDFS_ADDR from the environment"
elif command -v java >/dev/null && command -v mvn >/dev/null; then
  trap '"$root/peers/hdfs/stop.sh" "$work"; rm -f "$work/lifeline"' EXIT
  trap 'exit 130' INT TERM
  t0=$(date +%s)
  mkdir -p "$work"
  rm -f "$work/lifeline"
  mkfifo "$work/lifeline"
  # fd 9 keeps the FIFO open (read+write, so opening it never blocks) for as
  # long as this script lives; no child gets a copy (9>&- below), so when
  # this script ends, however, the JVM's stdin reaches EOF.
  exec 9<>"$work/lifeline"
  if "$root/peers/hdfs/start.sh" "$work" --lifeline <"$work/lifeline" 9>&-; then
    # shellcheck disable=SC1091
    set -a; . "$work/hdfs.env"; set +a
    echo "with-hdfs: shared HDFS at $CKPT_HDFS_ADDR (prepare+start $(( $(date +%s) - t0 ))s; log $work/hdfs.log)"
  elif $required; then
    echo "with-hdfs: the HDFS peer did not start and peers are required" >&2
    exit 1
  else
    echo "with-hdfs: WARNING: the HDFS peer did not start; HDFS tests will try on their own" >&2
  fi
else
  echo "with-hdfs: java or mvn missing; running without the HDFS peer" >&2
fi

"$@" 9>&-
