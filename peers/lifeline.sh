#!/usr/bin/env bash
# Runs a server ("$@") that must not outlive the test binary that started
# it: this script's standard input is a pipe only that binary writes to;
# when it ends, however it ends, the pipe reaches EOF and the server is
# killed. The server itself gets no standard input.
exec 3<&0
"$@" </dev/null 3<&- &
server=$!
echo "$server" > "${CKPT_PEER_PIDFILE:-/dev/null}"
# SIGTERM first; what has not ended 5 s later (Azurite may not) is killed.
( cat <&3 >/dev/null; kill "$server" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$server" 2>/dev/null || exit 0; sleep 0.5; done
  kill -9 "$server" 2>/dev/null ) &
exec 3<&-
wait "$server"
