package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
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
			h = &snapshot.ByteStreamHandle{Name: ChecksummedName(data), Data: data}
		} else {
			name := ChecksummedName(data)
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
				&snapshot.ByteStreamHandle{Name: NewHandleID(), Data: []byte(enginefmt.MetaNative)}, nil, private, NewHandleID())
		} else {
			name := NewHandleID() + canonicalSuffix
			w, err := fsys.Create(ctx, storage.Join(sp.Dir, name), storage.CreateOptions{})
			if err != nil {
				return res, err
			}
			offsets, crcs, size, err := state.ExportKeyGroupsSummed(k.Staging, k.Range, w)
			if err == nil {
				trailer := state.AppendGroupSums(nil, crcs, size)
				_, err = w.Write(trailer)
				size += int64(len(trailer))
			}
			if err != nil {
				w.Abort()
				return res, err
			}
			if err := w.Close(); err != nil {
				return res, err
			}
			if UploadHook != nil {
				UploadHook(id, storage.Join(sp.Dir, name))
			}
			res.StateSize += size
			res.State.ManagedKeyedState = snapshot.NewSavepointKeyGroupsHandle(r, offsets, snapshot.NewRelativeFileHandle(name, size))
		}
	}
	res.Checkpointed = res.StateSize
	return res, nil
}

// canonicalSuffix ends the name of a canonical stream that carries its
// key groups' checksums after them (state.AppendGroupSums); streams
// written before ckpt recorded checksums have no suffix and are read
// unverified.
const canonicalSuffix = enginefmt.CanonicalSuffix

// RestoreCanonical reads the key groups of a canonical savepoint handle that
// fall in want and writes them into b. Only the bytes of those key groups
// are read when the stream is a file and its offsets ascend (as ckpt
// writes them): on scale-out each new subtask needs a part of an old
// subtask's stream, not all of it.
func RestoreCanonical(ctx context.Context, fsys storage.FS, h *snapshot.KeyGroupsHandle, exclusiveDir string, b *state.Backend, want [2]int) error {
	start := int(h.Range.Start)
	if len(h.Offsets) != int(h.Range.Count) {
		return failure.Deterministic(fmt.Errorf("canonical savepoint handle: %d offsets for %d key groups", len(h.Offsets), h.Range.Count))
	}
	var offs []int64
	var kgs []int
	ascending := true
	lo, hi := int64(-1), int64(-1) // byte range of the wanted key groups; hi -1: to the end
	for i, off := range h.Offsets {
		if i > 0 && off < h.Offsets[i-1] {
			ascending = false
		}
		kg := start + i
		if kg >= want[0] && kg <= want[1] {
			offs = append(offs, off)
			kgs = append(kgs, kg)
			if lo < 0 {
				lo = off
			}
		} else if kg > want[1] && hi < 0 {
			hi = off
		}
	}
	if len(kgs) == 0 {
		return nil
	}
	uri, err := StreamURI(h.Delegate, exclusiveDir)
	if err != nil {
		return RestoreError(err)
	}
	summed := strings.HasSuffix(uri, canonicalSuffix)
	var data []byte
	var crcs []uint32
	if uri == "" || !ascending {
		if data, err = ReadStreamVerified(ctx, fsys, h.Delegate, exclusiveDir); err != nil {
			return err
		}
		if summed {
			n := state.GroupSumsLen(len(h.Offsets))
			tail := data[max(0, len(data)-n):]
			if crcs, _, err = state.ParseGroupSums(tail, len(h.Offsets), int64(len(data))); err != nil {
				return corrupt(uri, err.Error())
			}
			data = data[:len(data)-n]
		}
		lo = 0
	} else {
		if data, crcs, err = readRange(ctx, fsys, uri, lo, hi, summed, len(h.Offsets)); err != nil {
			return RestoreError(err)
		}
	}
	if summed {
		if err := verifyGroups(uri, h.Offsets, crcs, data, lo, kgs[0]-start, len(kgs)); err != nil {
			return err
		}
	}
	for i := range offs {
		offs[i] -= lo
	}
	return state.ImportKeyGroups(b, data, kgs, offs)
}

// verifyGroups checks n key groups, from index first of the handle's,
// whose bytes are data (the stream's from offset lo to the end of the
// last of them), against their checksums.
func verifyGroups(uri string, offsets []int64, crcs []uint32, data []byte, lo int64, first, n int) error {
	for i := first; i < first+n; i++ {
		end := lo + int64(len(data)) // the last key group ends with the stream
		if i+1 < len(offsets) {
			end = offsets[i+1]
		}
		a, z := offsets[i]-lo, end-lo
		if a < 0 || z < a || z > int64(len(data)) {
			return corrupt(uri, fmt.Sprintf("has key group %d at [%d, %d), outside a %d-byte stream", i, offsets[i], end, lo+int64(len(data))))
		}
		if got := state.Checksum(data[a:z]); got != crcs[i] {
			return corrupt(uri, fmt.Sprintf("is corrupt in key group %d (bytes %d to %d): CRC-32C %08x, recorded %08x", i, offsets[i], end, got, crcs[i]))
		}
	}
	return nil
}

// readRange reads bytes [lo, hi) of the stream at uri (hi -1: to the end
// of its key groups). When summed, the stream carries its key groups'
// checksums (n of them) after them: they are read and returned too.
func readRange(ctx context.Context, fsys storage.FS, uri string, lo, hi int64, summed bool, n int) ([]byte, []uint32, error) {
	f, err := fsys.Open(ctx, uri)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	size := f.Size()
	var crcs []uint32
	if summed {
		tail := make([]byte, min(size, int64(state.GroupSumsLen(n))))
		if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("read %s: %w", uri, err)
		}
		if crcs, size, err = state.ParseGroupSums(tail, n, size); err != nil {
			return nil, nil, corrupt(uri, err.Error())
		}
	}
	if hi < 0 || hi > size {
		hi = size
	}
	if lo > hi {
		return nil, nil, corrupt(uri, fmt.Sprintf("has key groups at offset %d beyond its %d bytes", lo, size))
	}
	buf := make([]byte, hi-lo)
	if _, err := f.ReadAt(buf, lo); err != nil && !(errors.Is(err, io.EOF) && len(buf) == 0) {
		return nil, nil, fmt.Errorf("read %s [%d, %d): %w", uri, lo, hi, err)
	}
	return buf, crcs, nil
}
