#!/usr/bin/env bash
# Starts a real YARN (Hadoop's MiniYARNCluster) with a real Flink session on
# it (Flink's YarnClusterDescriptor) running one streaming job, on loopback,
# and waits until all of it is up.
#
#   start.sh WORKDIR [--flink VERSION] [--lifeline]
#
# VERSION is the Flink the session runs: 2.3.0 (default) or 1.20.1, each its
# own build (prepare.sh).
# WORKDIR receives: yarn.pid (the JVM), yarn.log, data/ (fresh every start:
# the NodeManager's container dirs and logs, Flink's staging files),
# conf/yarn-site.xml (the cluster's whole configuration, usable as
# HADOOP_CONF_DIR) and yarn.env (CKPT_YARN_CONF_DIR, CKPT_YARN_APP_ID,
# CKPT_YARN_JOB_ID, CKPT_YARN_RM, CKPT_YARN_JM). --lifeline: stdin is the
# peer's lifeline (java_peer in peers/lifeline.sh): the JVM exits at EOF, and
# its shutdown hook stops YARN and so the containers.
#
# Env: CKPT_YARN_START_TIMEOUT (seconds, default 240), CKPT_YARN_LOG_LEVEL
# (slf4j-simple level, default warn), CKPT_YARN_HEAP (default 768m).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lifeline.sh"
work="${1:?usage: start.sh WORKDIR [--flink VERSION] [--lifeline]}"
shift
lifeline=false
flink=2.3.0
while [ $# -gt 0 ]; do
  case "$1" in
    --lifeline) lifeline=true ;;
    --flink) flink="${2:?start.sh: --flink needs a version}"; shift ;;
    *) echo "start.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
timeout="${CKPT_YARN_START_TIMEOUT:-240}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
"$here/stop.sh" "$work" >/dev/null 2>&1 || true
rm -rf "$work/data" "$work/conf" "$work/flink-conf" "$work/staging" "$work/yarn.env" "$work/yarn.log"
mkdir -p "$work/conf" "$work/data"
bash "$here/prepare.sh" "$flink" </dev/null >/dev/null
build="$here/target/flink-$flink"

if ! getent hosts "$(hostname)" >/dev/null 2>&1; then
  echo "yarn peer: host name '$(hostname)' does not resolve; add '127.0.0.1 $(hostname)' to /etc/hosts" >&2
  exit 1
fi
java_bin="$(command -v java)"
export JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$java_bin")")")}"
# The containers (Flink's JobManager) read the cluster's yarn-site.xml from
# here; the NodeManager passes the variable on to them.
export HADOOP_CONF_DIR="$work/conf"
# Flink's own JVM flags for Java 17, for the JobManager and TaskManager
# containers (the Flink peer's list).
opts="$(grep -v '^#' "$here/../flink/jvm17.args" | grep -- '^--add' | tr '\n' ' ')"
cp="$here/../hdfs/target/classes:$build/classes:$(cat "$build/classpath.txt")"
# The JVM in a session of its own, on the lifeline with --lifeline (java_peer,
# peers/lifeline.sh).
java_peer "$work/yarn.pid" "$work/yarn.log" "$lifeline" dev.ckpt.peer.YarnPeer \
  -Xmx"${CKPT_YARN_HEAP:-768m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  $opts -XX:+IgnoreUnrecognizedVMOptions \
  -Dorg.slf4j.simpleLogger.defaultLogLevel="${CKPT_YARN_LOG_LEVEL:-warn}" \
  -Dorg.slf4j.simpleLogger.showDateTime=true \
  -Dckpt.container.jvm.opts="$opts -XX:+UseSerialGC -XX:TieredStopAtLevel=1" \
  -Dtest.build.data="$work/data" -Djava.io.tmpdir="$work/data" \
  -cp "$cp" -- "$work"
jpid=$java_pid

start=$(date +%s)
while [ ! -s "$work/yarn.env" ]; do
  if ! kill -0 "$jpid" 2>/dev/null; then
    echo "yarn peer: JVM exited during start; last lines of $work/yarn.log:" >&2
    tail -n 40 "$work/yarn.log" >&2
    "$here/stop.sh" "$work" >&2 || true
    exit 1
  fi
  if [ $(( $(date +%s) - start )) -ge "$timeout" ]; then
    echo "yarn peer: not ready after ${timeout}s; stopping it. Last lines of $work/yarn.log:" >&2
    tail -n 40 "$work/yarn.log" >&2
    "$here/stop.sh" "$work" >&2 || true
    exit 1
  fi
  sleep 0.5
done
echo "yarn peer: ready in $(( $(date +%s) - start ))s (pid $jpid, logs $work/yarn.log)"
cat "$work/yarn.env"
