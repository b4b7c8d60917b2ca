#!/usr/bin/env bash
# Resolves the HDFS peer's classpath from Maven Central into cp.txt (jars are
# cached in ~/.m2, so a second run is offline and takes a second or two), and
# compiles the peer's lifeline wrapper (src/, into target/classes) with javac.
# Re-resolves only when pom.xml is newer than cp.txt; recompiles only when a
# source is newer than its class.
set -euo pipefail
cd "$(dirname "$0")"

src=src/dev/ckpt/peer/Lifeline.java
class=target/classes/dev/ckpt/peer/Lifeline.class
if [ ! -s "$class" ] || [ "$src" -nt "$class" ]; then
  command -v javac >/dev/null || { echo "hdfs peer: javac not found: a JDK (not only a JRE) is needed to compile $src" >&2; exit 1; }
  mkdir -p target/classes
  javac -nowarn --release 17 -d target/classes "$src"
fi

if [ -s cp.txt ] && [ cp.txt -nt pom.xml ]; then
  for jar in $(tr ':' ' ' < cp.txt); do
    [ -f "$jar" ] || { rm -f cp.txt; break; }
  done
  [ -s cp.txt ] && exit 0
fi
start=$(date +%s)
# -q keeps CI logs short; on failure Maven's own error is printed.
mvn -q -B -Dstyle.color=never -f pom.xml dependency:build-classpath -Dmdep.outputFile=cp.txt.tmp
mv cp.txt.tmp cp.txt
echo "hdfs peer: classpath resolved in $(( $(date +%s) - start ))s ($(tr ':' '\n' < cp.txt | grep -c .) jars)"
