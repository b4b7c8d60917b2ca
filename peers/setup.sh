#!/usr/bin/env bash
# Prepares the real peers (HDFS, Flink) when Java and Maven are present:
# resolves their classpaths from Maven Central once (cached in ~/.m2).
# Without Java/Maven it says so; tests then skip loudly (or fail under CI=true).
# The object-store peers need no Java and are prepared whatever Java there
# is: S3 (moto's server, from PyPI; python3), Azure (Azurite, from npm;
# node and npm) and GCS (fake-gcs-server, built from the Go module proxy; go).
set -euo pipefail
cd "$(dirname "$0")"
required=false
if [ "${CI:-}" = true ] || [ "${CKPT_REQUIRE_PEERS:-}" = 1 ]; then required=true; fi
# The object-store peers install in the background (PyPI, npm and the Go
# module proxy: each its own cache) while the Java peers resolve one after
# the other (Maven's local repository is not safe for concurrent writers).
logs="$(mktemp -d)"
for peer in s3 azure gcs; do
  echo "peers: preparing $peer (in the background)"
  ( bash "$peer/prepare.sh" >"$logs/$peer.log" 2>&1 || touch "$logs/$peer.failed" ) &
done
# objstores waits for them and reports each, failing under CI=true /
# CKPT_REQUIRE_PEERS=1 when one could not be installed.
objstores() {
  wait
  for peer in s3 azure gcs; do
    cat "$logs/$peer.log"
    if [ -e "$logs/$peer.failed" ]; then
      if $required; then
        echo "peers: the $peer peer is required under CI=true / CKPT_REQUIRE_PEERS=1 but could not be installed" >&2; exit 1
      fi
      echo "peers: WARNING: $peer peer not installed; tests needing it will SKIP" >&2
    fi
  done
  rm -rf "$logs"
}
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  objstores
  if $required; then
    echo "peers: java and mvn are required under CI=true / CKPT_REQUIRE_PEERS=1" >&2; exit 1
  fi
  echo "peers: WARNING: java or mvn missing; tests needing real HDFS/Flink will SKIP" >&2
  exit 0
fi
for s in */prepare.sh; do
  [ -e "$s" ] || continue
  case "$s" in s3/prepare.sh|azure/prepare.sh|gcs/prepare.sh) continue ;; esac
  echo "peers: preparing ${s%/prepare.sh}"
  bash "$s"
done
objstores
