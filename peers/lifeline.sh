#!/usr/bin/env bash
# How a peer's server is tied to the test binary that started it, so it
# never outlives it. Two ways, one per kind of server:
#
# Executed (`bash lifeline.sh SERVER ARGS...`, peers/objstore.go): runs a
# server that must not outlive its owner: this script's standard input is a
# pipe only the owner writes to; when the owner ends, however it ends, the
# pipe reaches EOF and the server is killed. The server itself gets no
# standard input.
#
# Sourced (peers/hdfs/start.sh, peers/yarn/start.sh): defines java_peer,
# which starts a peer's JVM whose lifeline is read by the JVM itself.

# java_peer PIDFILE LOG LIFELINE MAIN [JVM-OPTION...] -- [ARG...]
# starts `java JVM-OPTION... MAIN ARG...` in the background, in a session
# of its own (setsid), its output in LOG, and writes its PID to PIDFILE (and
# $java_pid). With LIFELINE true, the caller's standard input is the peer's
# lifeline: a pipe whose write end only the owner (a test binary,
# with-hdfs.sh) holds. The JVM gets it as its stdin and exits at EOF
# (dev.ckpt.peer.Lifeline, peers/hdfs/src), i.e. as soon as the owner is
# gone however it ended — SIGKILL of it or of its whole process group
# included (a watchdog process sharing the owner's group would be killed
# along and leave the JVM, in its own session, behind). With LIFELINE false
# the JVM's stdin is /dev/null and it runs until the peer's stop.sh.
# stdout/stderr go to LOG, a file: a caller that reads the starting
# script's output through a pipe (go test) must not wait on a pipe the JVM
# keeps open. A terminal's Ctrl-C reaches the JVM only through its owner
# (whose end then closes the lifeline). The caller keeps no copy of the
# lifeline beyond its own stdin, so nothing else may run in the background.
java_peer() {
  local pidfile=$1 log=$2 lifeline=$3 main=$4
  shift 4
  local jvm=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do jvm+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  local setsid=() mains=("$main") stdin=/dev/null
  command -v setsid >/dev/null && setsid=(setsid)
  if [ "$lifeline" = true ]; then
    mains=(dev.ckpt.peer.Lifeline "$main")
    stdin=/dev/stdin
  fi
  "${setsid[@]}" java "${jvm[@]}" "${mains[@]}" "$@" <"$stdin" >"$log" 2>&1 &
  java_pid=$!
  echo "$java_pid" > "$pidfile"
}

[ "${BASH_SOURCE[0]}" != "$0" ] && return 0

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
