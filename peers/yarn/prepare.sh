#!/usr/bin/env bash
# Builds the YARN peer: compiles dev.ckpt.peer.YarnPeer and writes its
# runtime classpath (Hadoop's MiniYARNCluster, Flink's flink-yarn and
# runtime, from Maven Central, cached in ~/.m2) to target/classpath.txt;
# also the HDFS peer's lifeline wrapper (peers/hdfs/prepare.sh), which
# start.sh puts in front. Skipped when nothing changed since the last build.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p target
exec 9>"target/.prepare.lock"
flock 9
bash ../hdfs/prepare.sh >/dev/null
if [ -s target/classpath.txt ] && [ -f target/.built ] &&
   [ -z "$(find pom.xml src -newer target/.built -print -quit)" ]; then
  exit 0
fi
start=$(date +%s)
rm -f target/classpath.txt
mvn -B -q -Dstyle.color=never compile
test -s target/classpath.txt
touch target/.built
echo "yarn peer: built in $(( $(date +%s) - start ))s"
