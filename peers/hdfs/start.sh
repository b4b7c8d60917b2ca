#!/usr/bin/env bash
# Starts a real HDFS (one NameNode + one DataNode in one JVM, Hadoop's
# MiniDFSCluster) on loopback and waits until it serves.
#
#   start.sh WORKDIR [--lifeline]
#
# WORKDIR receives: hdfs.pid (the JVM), hdfs.log, data/ (fresh every start),
# conf/core-site.xml (the cluster's whole effective configuration, usable as
# HADOOP_CONF_DIR), hdfs.json ({"namenode_port": N}) and hdfs.env
# (CKPT_HDFS_ADDR=..., CKPT_HDFS_CONF_DIR=... for `source`).
#
# With --lifeline, this script's stdin is the peer's lifeline: the JVM exits
# at its EOF, as soon as the owner (a test binary, with-hdfs.sh) is gone
# however it ended (java_peer in peers/lifeline.sh). Without --lifeline the
# JVM runs until stop.sh.
#
# Env: CKPT_HDFS_START_TIMEOUT (seconds, default 180), CKPT_HDFS_LOG_LEVEL
# (slf4j-simple level, default warn), CKPT_HDFS_HEAP (default 512m),
# CKPT_HDFS_BLOCK_SIZE (bytes, default 1 MiB so multi-block files are cheap),
# CKPT_HDFS_RESTART_PORT (restart the cluster of WORKDIR after its JVM died —
# its data kept, not formatted — with the NameNode on this port again; for
# tests that kill a NameNode and bring it back).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lifeline.sh"
work="${1:?usage: start.sh WORKDIR [--lifeline]}"
lifeline=false
case "${2:-}" in
  "") ;;
  --lifeline) lifeline=true ;;
  *) echo "start.sh: unknown option $2 (usage: start.sh WORKDIR [--lifeline])" >&2; exit 2 ;;
esac
timeout="${CKPT_HDFS_START_TIMEOUT:-180}"

umask 022 # the DataNode refuses data dirs with group/other write bits
mkdir -p "$work"
work="$(cd "$work" && pwd)"

restart_port="${CKPT_HDFS_RESTART_PORT:-}"
if [ -n "$restart_port" ]; then
  # Bring back the cluster whose JVM died: same data, same NameNode port.
  if [ -f "$work/hdfs.pid" ] && grep -q MiniDFSClusterManager "/proc/$(cat "$work/hdfs.pid")/cmdline" 2>/dev/null; then
    echo "hdfs peer: the cluster in $work is still running (pid $(cat "$work/hdfs.pid")); not restarting" >&2
    exit 1
  fi
  [ -d "$work/data" ] || { echo "hdfs peer: no data in $work to restart from" >&2; exit 1; }
  mv -f "$work/hdfs.log" "$work/hdfs.log.before-restart" 2>/dev/null || true
  rm -f "$work/hdfs.json" "$work/hdfs.env"
else
  # One cluster per work dir: stop whatever a previous run left behind.
  "$here/stop.sh" "$work" >/dev/null 2>&1 || true
  rm -rf "$work/data" "$work/conf" "$work/hdfs.json" "$work/hdfs.env" "$work/hdfs.log"
fi
mkdir -p "$work/conf"

bash "$here/prepare.sh" </dev/null >/dev/null

# Hadoop resolves the local host name at start; say so plainly if it cannot.
if ! getent hosts "$(hostname)" >/dev/null 2>&1; then
  echo "hdfs peer: host name '$(hostname)' does not resolve; add '127.0.0.1 $(hostname)' to /etc/hosts" >&2
  exit 1
fi

# Loopback only: MiniDFSCluster binds the NameNode and DataNode to 127.0.0.1;
# ports are ephemeral (the NameNode port is read from hdfs.json), so several
# clusters (and the Flink peer) never collide.
format=(-format)
nnport=0
if [ -n "$restart_port" ]; then format=(); nnport="$restart_port"; fi
args=(
  "${format[@]}" -datanodes 1 -nnport "$nnport" -httpport 0
  -D "dfs.blocksize=${CKPT_HDFS_BLOCK_SIZE:-1048576}"
  -D dfs.namenode.fs-limits.min-block-size=65536
  -D dfs.replication=1
  -D dfs.permissions.enabled=true
  -D dfs.namenode.safemode.extension=0
  -D dfs.datanode.address=127.0.0.1:0
  -D dfs.datanode.http.address=127.0.0.1:0
  -D dfs.datanode.ipc.address=127.0.0.1:0
  -D dfs.namenode.http-address=127.0.0.1:0
  -writeConfig "$work/conf/core-site.xml"
  -writeDetails "$work/hdfs.json"
)
# The JVM in a session of its own, on the lifeline with --lifeline (java_peer,
# peers/lifeline.sh). Nothing below runs in the background: this script keeps
# no copy of the lifeline beyond its own stdin.
java_peer "$work/hdfs.pid" "$work/hdfs.log" "$lifeline" org.apache.hadoop.test.MiniDFSClusterManager \
  -Xmx"${CKPT_HDFS_HEAP:-512m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -XX:+IgnoreUnrecognizedVMOptions \
  -Dorg.slf4j.simpleLogger.defaultLogLevel="${CKPT_HDFS_LOG_LEVEL:-warn}" \
  -Dorg.slf4j.simpleLogger.showDateTime=true \
  -Dtest.build.data="$work/data" -Djava.io.tmpdir="$work/data" \
  -cp "$here/target/classes:$(cat "$here/cp.txt")" -- "${args[@]}"
jpid=$java_pid

start=$(date +%s)
while [ ! -s "$work/hdfs.json" ]; do
  if ! kill -0 "$jpid" 2>/dev/null; then
    echo "hdfs peer: JVM exited during start; last lines of $work/hdfs.log:" >&2
    tail -n 30 "$work/hdfs.log" >&2
    exit 1
  fi
  if [ $(( $(date +%s) - start )) -ge "$timeout" ]; then
    echo "hdfs peer: not ready after ${timeout}s; stopping it. Last lines of $work/hdfs.log:" >&2
    tail -n 30 "$work/hdfs.log" >&2
    "$here/stop.sh" "$work" >&2 || true
    exit 1
  fi
  sleep 0.2
done
# The details file is written right after waitActive(); give the writer a
# moment to finish the line.
sleep 0.2
port="$(sed -n 's/.*"namenode_port": *\([0-9][0-9]*\).*/\1/p' "$work/hdfs.json")"
if [ -z "$port" ]; then
  echo "hdfs peer: cannot read the NameNode port from $work/hdfs.json" >&2
  exit 1
fi
{
  echo "CKPT_HDFS_ADDR=127.0.0.1:$port"
  echo "CKPT_HDFS_CONF_DIR=$work/conf"
  echo "CKPT_HDFS_WORK=$work"
} > "$work/hdfs.env"
echo "hdfs peer: NameNode 127.0.0.1:$port ready in $(( $(date +%s) - start ))s (pid $jpid, logs $work/hdfs.log)"
