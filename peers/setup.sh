#!/usr/bin/env bash
# Prepares the real peers (HDFS, Flink) when Java and Maven are present:
# resolves their classpaths from Maven Central once (cached in ~/.m2).
# Without Java/Maven it says so; tests then skip loudly (or fail under CI=true).
# The S3 peer (moto's server, from PyPI) needs only python3 and is prepared
# first, whatever Java there is.
set -euo pipefail
cd "$(dirname "$0")"
required=false
if [ "${CI:-}" = true ] || [ "${CKPT_REQUIRE_PEERS:-}" = 1 ]; then required=true; fi
echo "peers: preparing s3"
if ! bash s3/prepare.sh; then
  if $required; then
    echo "peers: the S3 peer is required under CI=true / CKPT_REQUIRE_PEERS=1 but could not be installed" >&2; exit 1
  fi
  echo "peers: WARNING: S3 peer not installed; tests needing real S3 will SKIP" >&2
fi
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if [ "${CI:-}" = true ] || [ "${CKPT_REQUIRE_PEERS:-}" = 1 ]; then
    echo "peers: java and mvn are required under CI=true / CKPT_REQUIRE_PEERS=1" >&2; exit 1
  fi
  echo "peers: WARNING: java or mvn missing; tests needing real HDFS/Flink will SKIP" >&2
  exit 0
fi
for s in */prepare.sh; do
  [ -e "$s" ] || continue
  [ "$s" = s3/prepare.sh ] && continue
  echo "peers: preparing ${s%/prepare.sh}"
  bash "$s"
done
