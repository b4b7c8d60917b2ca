package state

import (
	"context"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// WrittenByEngine reports whether operator op's state in m was written by
// ckpt's embedded engine in its own formats (recognised as the readers
// here recognise it: keyed handles by their meta stream or ".kg" name,
// operator state streams by their checksummed names), rather than by
// Flink. ok is false for an operator without state.
func WrittenByEngine(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState) (engine, ok bool, err error) {
	for _, st := range op.Subtasks {
		if h := st.ManagedKeyedState; h != nil {
			return isEngineKeyed(ctx, fsys, m, h), true, nil
		}
	}
	for _, st := range op.Subtasks {
		osh, isStream := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle)
		if !isStream || osh == nil {
			continue
		}
		s, err := openStream(ctx, fsys, m, osh.Delegate)
		if err != nil {
			return false, true, err
		}
		head, err := s.head(8)
		s.Close()
		if err != nil {
			return false, true, err
		}
		return engineState(s.name, head) != nil, true, nil
	}
	return false, false, nil
}
