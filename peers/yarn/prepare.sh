#!/usr/bin/env bash
# Builds the YARN peer for every Flink line it supports (2.x default, 1.20
# LTS): compiles dev.ckpt.peer.YarnPeer and writes its runtime classpath
# (Hadoop's MiniYARNCluster, Flink's flink-yarn and runtime, from Maven
# Central, cached in ~/.m2) to target/flink-<version>/classpath.txt; also the
# HDFS peer's lifeline wrapper (peers/hdfs/prepare.sh), which start.sh puts in
# front. A build whose inputs have not changed is skipped.
#
#   prepare.sh [VERSION...]   (default: every version)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p target
exec 9>"target/.prepare.lock"
flock 9
bash ../hdfs/prepare.sh >/dev/null
build() { # build <version> [maven args]
  local v=$1; shift
  local out="target/flink-$v"
  if [ -s "$out/classpath.txt" ] && [ -f "$out/.built" ] &&
     [ -z "$(find pom.xml src -newer "$out/.built" -print -quit)" ]; then
    return
  fi
  local start
  start=$(date +%s)
  rm -f "$out/classpath.txt"
  mvn -B -q -Dstyle.color=never "$@" compile
  test -s "$out/classpath.txt"
  touch "$out/.built"
  echo "yarn peer $v: built in $(( $(date +%s) - start ))s"
}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.3.0 1.20.1)
for v in "${versions[@]}"; do
  case "$v" in
    2.3.0) build 2.3.0 ;;
    1.20.1) build 1.20.1 -Pflink-1.20 ;;
    *) echo "yarn peer: no build for Flink $v (have 2.3.0, 1.20.1)" >&2; exit 2 ;;
  esac
done
