package state

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// ErrStop, returned by a ReadKeyedFrom callback, ends the read early;
// ReadKeyedFrom then returns nil.
var ErrStop = errors.New("stop reading")

// ReadKeyedFrom calls fn for the entries of the keyed state named state
// (a name is required) of operator op whose key group is from or later,
// in key-group order (within a key group, in file order), and reads
// nothing before from: subtasks whose key groups all lie before it are
// not opened, and in the subtask that holds it only the key groups from
// from on are read, one at a time. fn returning ErrStop ends the read.
//
// It is what a pager needs: remember the key group a page starts at, read
// from there, stop when the page is full. RocksDB SST files have no
// key-group index ckpt reads, so there the subtask holding from is
// scanned from its start (entries before from are skipped, not given).
func ReadKeyedFrom(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, state string, from int, fn func(Entry) error) error {
	if state == "" {
		return errors.New("ReadKeyedFrom reads one state: name it")
	}
	subtasks := append([]*snapshot.SubtaskState(nil), op.Subtasks...)
	start := func(st *snapshot.SubtaskState) int32 {
		if h, ok := st.ManagedKeyedState.(snapshot.KeyedHandle); ok {
			return h.KeyGroups().Start
		}
		return -1
	}
	sort.SliceStable(subtasks, func(i, j int) bool { return start(subtasks[i]) < start(subtasks[j]) })
	err := func() error {
		for _, st := range subtasks {
			switch h := st.ManagedKeyedState.(type) {
			case nil:
				continue
			case *snapshot.KeyGroupsHandle:
				if int(h.Range.End()) < from {
					continue
				}
				if from <= int(h.Range.Start) {
					if err := readKeyGroups(ctx, fsys, m, op, h, state, -1, nil, byValue(fn)); err != nil {
						return err
					}
					continue
				}
				for kg := from; kg <= int(h.Range.End()); kg++ {
					if i := kg - int(h.Range.Start); i < len(h.Offsets) && h.Offsets[i] == 0 {
						continue // empty (unified format): nothing to open
					}
					if err := readKeyGroups(ctx, fsys, m, op, h, state, kg, nil, byValue(fn)); err != nil {
						return err
					}
				}
			case *snapshot.IncrementalHandle:
				if int(h.Range.End()) < from {
					continue
				}
				err := readIncremental(ctx, fsys, m, op, h, state, -1, func(e Entry) error {
					if e.KeyGroup < from {
						return nil
					}
					return fn(e)
				})
				if err != nil {
					return err
				}
			default:
				return fmt.Errorf("%w: entries of %T (ckpt reads key-group streams — canonical savepoints, heap checkpoints — and RocksDB SST files)", ErrUnsupported, h)
			}
		}
		return nil
	}()
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}
