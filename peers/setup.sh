#!/usr/bin/env bash
# Prepares the real peers (HDFS, Flink) when Java and Maven are present:
# resolves their classpaths from Maven Central once (cached in ~/.m2).
# Without Java/Maven it says so; tests then skip loudly (or fail under CI=true).
# The object-store peers need no Java and are prepared first, whatever Java
# there is: S3 (moto's server, from PyPI; python3), Azure (Azurite, from npm;
# node and npm) and GCS (fake-gcs-server, built from the Go module proxy; go).
set -euo pipefail
cd "$(dirname "$0")"
required=false
if [ "${CI:-}" = true ] || [ "${CKPT_REQUIRE_PEERS:-}" = 1 ]; then required=true; fi
for peer in s3 azure gcs; do
  echo "peers: preparing $peer"
  if ! bash "$peer/prepare.sh"; then
    if $required; then
      echo "peers: the $peer peer is required under CI=true / CKPT_REQUIRE_PEERS=1 but could not be installed" >&2; exit 1
    fi
    echo "peers: WARNING: $peer peer not installed; tests needing it will SKIP" >&2
  fi
done
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if [ "${CI:-}" = true ] || [ "${CKPT_REQUIRE_PEERS:-}" = 1 ]; then
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
