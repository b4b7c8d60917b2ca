#!/usr/bin/env bash
# Runs a server ("$@") that must not outlive the test binary that started
# it: this script's standard input is a pipe only that binary writes to;
# when it ends, however it ends, the pipe reaches EOF and the server is
# killed. The server itself gets no standard input.
exec 3<&0
"$@" </dev/null 3<&- &
server=$!
echo "$server" > "${CKPT_PEER_PIDFILE:-/dev/null}"
( cat <&3 >/dev/null; kill "$server" 2>/dev/null ) &
exec 3<&-
wait "$server"
