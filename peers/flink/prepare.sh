#!/usr/bin/env bash
# Builds the Flink peer for every Flink line it supports (2.x default, 1.20 LTS):
# compiles the tiny Java harness and writes its runtime classpath to
# target/flink-<version>/classpath.txt. Maven caches everything in ~/.m2, and a
# build whose inputs have not changed is skipped, so running this again is cheap.
# Called by peers/setup.sh (make peers) and by peers/flink.go when a build is missing.
set -euo pipefail
cd "$(dirname "$0")"
# Serialise concurrent callers (several test binaries may start at once).
mkdir -p target
exec 9>"target/.prepare.lock"
flock 9
build() { # build <version> [maven args]
  local v=$1; shift
  local out="target/flink-$v"
  # .built is touched after a good build (Maven leaves an unchanged classpath.txt alone).
  if [ -s "$out/classpath.txt" ] && [ -f "$out/ckpt-flink-peer.jar" ] && [ -f "$out/.built" ] &&
     [ -z "$(find pom.xml src jvm17.args -newer "$out/.built" -print -quit)" ]; then
    echo "flink peer $v: up to date ($out)"
    return
  fi
  echo "flink peer $v: building (first run downloads Flink from Maven Central into ~/.m2)"
  rm -f "$out/classpath.txt"
  mvn -B -q "$@" package
  test -s "$out/classpath.txt"
  touch "$out/.built"
}
build 2.3.0
build 1.20.5 -Pflink-1.20
