package bridge

import (
	"encoding/binary"
	"fmt"

	"github.com/ckpt-dev/ckpt/engine/operator"
	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
)

// The state of the runner's operators (runner/src/main/java/dev/ckpt/
// runner/*.java) and of the engine's (engine/builtin), in one list that
// both directions use: the runner keeps the engine's names and byte
// layouts where Flink allows it.
const (
	// The generator and file sources. The engine keeps "splits", 16 bytes
	// (next, step) each ("offset", one next per subtask, in issue-4
	// checkpoints); the runner's FLIP-27 source keeps SeqSplit (int index,
	// long next, long step) in its readers' SourceReaderState, serializer
	// version 1, and its enumerator state (boolean created, int n, n ×
	// (int len, split)), serializer version 1, as coordinator state.
	splitsName         = "splits"
	offsetName         = "offset"
	runnerSplitVersion = 1
	runnerEnumVersion  = 1
	// The exactly-once file sink: union list state "pending" of byte[] on
	// both sides (the same JSON entries).
	pendingName       = "pending"
	enginePendingName = operator.UnionPrefix + pendingName
	// window-count's open windows, (start, count) pairs of 16 big-endian
	// bytes per key; the runner fires a window by an event-time timer at
	// its last millisecond (processing-time ones: none, but Flink keeps
	// the queue), the engine rebuilds its timers from the windows.
	windowsName          = "windows"
	eventTimersName      = "_timer_state/event_user-timers"
	processingTimersName = "_timer_state/processing_user-timers"
)

// valueStates are the keyed Long value states of count, sum and dedupe,
// by the spec operator that keeps them.
var valueStates = map[string]string{"count": "count", "sum": "sum", "dedupe": "seen"}

// runnerKeyedStates are the runner's keyed states by name, with the kind
// of their values.
var runnerKeyedStates = func() map[string]fstate.Kind {
	m := map[string]fstate.Kind{windowsName: fstate.KindBytes}
	for _, name := range valueStates {
		m[name] = fstate.KindLong
	}
	return m
}()

// appendRunnerSplit appends the runner's SeqSplit for the engine's split
// (next, step): split i of p starts at i with step p, so its index is
// next mod step, whatever the split has read.
func appendRunnerSplit(dst []byte, next, step int64) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(next%step))
	dst = binary.BigEndian.AppendUint64(dst, uint64(next))
	return binary.BigEndian.AppendUint64(dst, uint64(step))
}

// runnerSplit reads the runner's SeqSplit (serializer version 1).
func runnerSplit(version int32, b []byte) ([]byte, error) {
	if version != runnerSplitVersion || len(b) != 20 {
		return nil, fmt.Errorf("a split of %d bytes (serializer version %d), not one of ckpt's runner (20 bytes, version %d)", len(b), version, runnerSplitVersion)
	}
	next, step := int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint64(b[12:]))
	if step <= 0 || next < 0 {
		return nil, fmt.Errorf("a split with next %d, step %d", next, step)
	}
	return append([]byte(nil), b[4:]...), nil
}
