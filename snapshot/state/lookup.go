package state

import (
	"context"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// LookupKey reads the entries of one key of state (every state with ""),
// the one lookup `ckpt state --key` and the TUI's state screen share: the
// key group is computed for the snapshot's keyed format (format, from
// ReadKeyedSchema or OperatorSchema.KeyedFormat) — Flink's murmur hash of
// the key's Java hashCode for Flink's formats, the engine's own hash for
// ckpt's engine state — and only that key group is read. In a canonical
// Flink savepoint each entry's key is compared before anything else is
// decoded (ReadKey). It returns the key group.
func LookupKey(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, state, format string, key Value, fn func(Entry) error) (int, error) {
	kg, err := KeyGroupIn(format, key, int(op.MaxParallelism))
	if err != nil {
		return -1, err
	}
	if !IsEngineFormat(format) {
		return kg, ReadKey(ctx, fsys, m, op, state, key, fn)
	}
	return kg, ReadKeyGroup(ctx, fsys, m, op, state, kg, func(e Entry) error {
		if !SameKey(e.Key, key) {
			return nil
		}
		return fn(e)
	})
}
