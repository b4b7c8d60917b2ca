package checkpoint

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// BarrierOptions say what a barrier is for.
type BarrierOptions struct {
	// Savepoint is the target of a savepoint barrier (nil: a checkpoint).
	Savepoint *SavepointTarget
	// StopSources: sources emit nothing after this barrier (stop or cancel
	// with savepoint), until resumed if the savepoint fails.
	StopSources bool
	// Full asks for a FULL checkpoint of a job with incremental
	// checkpoints: every file is uploaded afresh and nothing an earlier
	// checkpoint uploaded is referenced (Flink's FULL checkpoint type, whose
	// files later checkpoints may reuse: sharing "forward" only).
	Full bool
}

// SavepointTarget is where and how a savepoint is written.
type SavepointTarget struct {
	Dir    string // savepoint-<6 hex>-<12 hex> directory
	Format snapshot.SavepointFormat
	Action snapshot.PostCheckpointAction
	// Notify: tell tasks on completion (stop/cancel with savepoint, so
	// exactly-once sinks commit the job's final output). Intermediate
	// savepoints commit nothing, as in Flink since 1.15.
	Notify bool
}

// UploadSavepoint is the asynchronous phase of a savepoint for one operator
// subtask. Everything goes into the savepoint directory with relative
// handles, so the savepoint is self-contained and relocatable. NATIVE keeps
// Pebble's own files (an incremental handle whose files are all private);
// CANONICAL writes one stream per subtask with the entries of each key
// group at a recorded offset (Flink's key-groups savepoint handle), which
// any backend layout and any parallelism can read back.
func UploadSavepoint(ctx context.Context, fsys storage.FS, sp *SavepointTarget, id int64, s OperatorSnapshot) (res SubtaskResult, err error) {
	res = SubtaskResult{Vertex: s.Vertex, Subtask: s.Subtask, State: &snapshot.SubtaskState{Index: int32(s.Subtask)}}
	if s.OpState != nil {
		data, states := EncodeOperatorState(s.OpState)
		var h snapshot.StreamHandle
		if len(data) <= memoryThreshold {
			h = &snapshot.ByteStreamHandle{Name: NewHandleID(), Data: data}
		} else {
			name := NewHandleID()
			if err := storage.WriteFile(ctx, fsys, storage.Join(sp.Dir, name), data, storage.CreateOptions{}); err != nil {
				return res, err
			}
			h = snapshot.NewRelativeFileHandle(name, int64(len(data)))
		}
		res.State.ManagedOperatorState = snapshot.NewOperatorStreamHandle(h, states...)
		res.StateSize += int64(len(data))
	}
	if k := s.Keyed; k != nil {
		defer os.RemoveAll(k.Staging)
		r := snapshot.KeyGroupRange{Start: int32(k.Range.Start), Count: int32(k.Range.Len())}
		if sp.Format == snapshot.FormatNative {
			var private []snapshot.NamedHandle
			var files []state.File
			for _, f := range k.Files {
				if f.Prefetch == nil { // a base image in the making is not part of it
					files = append(files, f)
				}
			}
			sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
			for _, f := range files {
				name := NewHandleID()
				if err := uploadFile(ctx, fsys, f.Path, storage.Join(sp.Dir, name)); err != nil {
					return res, err
				}
				if UploadHook != nil {
					UploadHook(id, storage.Join(sp.Dir, name))
				}
				res.StateSize += f.Size
				private = append(private, snapshot.NamedHandle{LocalName: f.Name, Handle: snapshot.NewRelativeFileHandle(name, f.Size)})
			}
			res.State.ManagedKeyedState = snapshot.NewIncrementalHandle(id, k.BackendID, r, res.StateSize,
				&snapshot.ByteStreamHandle{Name: NewHandleID(), Data: []byte("ckpt-pebble-v2")}, nil, private, NewHandleID())
		} else {
			data, offsets, err := state.ExportKeyGroups(k.Staging, k.Range)
			if err != nil {
				return res, err
			}
			name := NewHandleID()
			if err := storage.WriteFile(ctx, fsys, storage.Join(sp.Dir, name), data, storage.CreateOptions{}); err != nil {
				return res, err
			}
			if UploadHook != nil {
				UploadHook(id, storage.Join(sp.Dir, name))
			}
			res.StateSize += int64(len(data))
			res.State.ManagedKeyedState = snapshot.NewSavepointKeyGroupsHandle(r, offsets, snapshot.NewRelativeFileHandle(name, int64(len(data))))
		}
	}
	res.Checkpointed = res.StateSize
	return res, nil
}

// RestoreCanonical reads the key groups of a canonical savepoint handle that
// fall in want and writes them into b.
func RestoreCanonical(ctx context.Context, fsys storage.FS, h *snapshot.KeyGroupsHandle, exclusiveDir string, b *state.Backend, want [2]int) error {
	data, err := ReadStream(ctx, fsys, h.Delegate, exclusiveDir)
	if err != nil {
		return err
	}
	start := int(h.Range.Start)
	if len(h.Offsets) != int(h.Range.Count) {
		return fmt.Errorf("canonical savepoint handle: %d offsets for %d key groups", len(h.Offsets), h.Range.Count)
	}
	var offs []int64
	var kgs []int
	for i, off := range h.Offsets {
		kg := start + i
		if kg >= want[0] && kg <= want[1] {
			offs = append(offs, off)
			kgs = append(kgs, kg)
		}
	}
	return state.ImportKeyGroups(b, data, kgs, offs)
}
