package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/failure"
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
				&snapshot.ByteStreamHandle{Name: NewHandleID(), Data: []byte("ckpt-pebble-v2")}, nil, private, NewHandleID())
		} else {
			name := NewHandleID() + canonicalSuffix
			w, err := fsys.Create(ctx, storage.Join(sp.Dir, name), storage.CreateOptions{})
			if err != nil {
				return res, err
			}
			offsets, crcs, size, err := state.ExportKeyGroupsSummed(k.Staging, k.Range, w)
			if err != nil {
				w.Abort()
				return res, err
			}
			if err := w.Close(); err != nil {
				return res, err
			}
			sums := storage.Join(sp.Dir, name+state.GroupSumsSuffix)
			if err := storage.WriteFile(ctx, fsys, sums, state.EncodeGroupSums(crcs, size), storage.CreateOptions{}); err != nil {
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

// canonicalSuffix ends the name of a canonical stream whose key groups'
// checksums are in its side file (the name plus state.GroupSumsSuffix);
// streams written before ckpt recorded checksums have no suffix and are
// read unverified.
const canonicalSuffix = ".kg"

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
	var data []byte
	var size int64 // of the whole stream
	if uri == "" || !ascending {
		if data, err = ReadStreamVerified(ctx, fsys, h.Delegate, exclusiveDir); err != nil {
			return err
		}
		lo, size = 0, int64(len(data))
	} else {
		if data, size, err = readRange(ctx, fsys, uri, lo, hi); err != nil {
			return RestoreError(err)
		}
	}
	if strings.HasSuffix(uri, canonicalSuffix) {
		if err := verifyGroups(ctx, fsys, uri, h.Offsets, size, data, lo, kgs[0]-start, len(kgs)); err != nil {
			return err
		}
	}
	for i := range offs {
		offs[i] -= lo
	}
	return state.ImportKeyGroups(b, data, kgs, offs)
}

// verifyGroups checks n key groups, from index first of the handle's,
// whose bytes are data (the stream's from offset lo; the stream has size
// bytes), against the stream's checksum side file.
func verifyGroups(ctx context.Context, fsys storage.FS, uri string, offsets []int64, size int64, data []byte, lo int64, first, n int) error {
	side := uri + state.GroupSumsSuffix
	sums, err := storage.ReadAll(ctx, fsys, side)
	if errors.Is(err, fs.ErrNotExist) {
		return corrupt(side, "is missing (it holds the checksums of "+uri+")")
	}
	if err != nil {
		return err
	}
	crcs, want, err := state.DecodeGroupSums(sums)
	if err != nil {
		return corrupt(side, err.Error())
	}
	if len(crcs) != len(offsets) {
		return corrupt(side, fmt.Sprintf("has checksums of %d key groups; the handle has %d", len(crcs), len(offsets)))
	}
	if size != want {
		return corrupt(uri, fmt.Sprintf("has %d bytes; %d were written", size, want))
	}
	for i := first; i < first+n; i++ {
		end := size
		if i+1 < len(offsets) {
			end = offsets[i+1]
		}
		a, z := offsets[i]-lo, end-lo
		if a < 0 || z < a || z > int64(len(data)) {
			return corrupt(uri, fmt.Sprintf("key group %d at [%d, %d) lies outside its %d bytes", i, offsets[i], end, size))
		}
		if got := state.Checksum(data[a:z]); got != crcs[i] {
			return corrupt(uri, fmt.Sprintf("is corrupt in key group %d (bytes %d to %d): CRC-32C %08x, recorded %08x", i, offsets[i], end, got, crcs[i]))
		}
	}
	return nil
}

// readRange reads bytes [lo, hi) of the file at uri (hi -1: to its end)
// and returns them with the file's size.
func readRange(ctx context.Context, fsys storage.FS, uri string, lo, hi int64) ([]byte, int64, error) {
	f, err := fsys.Open(ctx, uri)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	size := f.Size()
	if hi < 0 || hi > size {
		hi = size
	}
	if lo > hi {
		return nil, size, corrupt(uri, fmt.Sprintf("has key groups at offset %d beyond its %d bytes", lo, size))
	}
	buf := make([]byte, hi-lo)
	if _, err := f.ReadAt(buf, lo); err != nil && !(errors.Is(err, io.EOF) && len(buf) == 0) {
		return nil, size, fmt.Errorf("read %s [%d, %d): %w", uri, lo, hi, err)
	}
	return buf, size, nil
}
