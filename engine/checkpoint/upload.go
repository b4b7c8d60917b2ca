package checkpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/storage"
)

// Layout is where a job's checkpoints live:
// <dir>/<job-id>/{chk-N, shared, taskowned}, or with create-subdir off
// <dir>/{chk-N, shared, taskowned}.
type Layout struct {
	FS     storage.FS
	JobDir string
	// Subdir: JobDir is the job's own <dir>/<job-id> (create-subdir on),
	// which the job may remove once it made it and emptied it. Otherwise
	// JobDir is the configured directory itself, which is never removed:
	// other jobs' checkpoints and the user's files may live there.
	Subdir bool
}

// NewLayout places job jobID under dir (create-subdir on) or directly in dir.
func NewLayout(fsys storage.FS, dir, jobID string, createSubdir bool) Layout {
	if dir == "" {
		return Layout{FS: fsys}
	}
	if createSubdir {
		return Layout{FS: fsys, JobDir: storage.Join(dir, jobID), Subdir: true}
	}
	return Layout{FS: fsys, JobDir: dir}
}

// Enabled reports whether checkpoints are persisted.
func (l Layout) Enabled() bool { return l.JobDir != "" }

// ChkDir is the exclusive directory of checkpoint id.
func (l Layout) ChkDir(id int64) string {
	return storage.Join(l.JobDir, "chk-"+strconv.FormatInt(id, 10))
}

// SharedDir holds files several checkpoints reference.
func (l Layout) SharedDir() string { return storage.Join(l.JobDir, "shared") }

// TaskOwnedDir is created for Flink's layout; ckpt writes nothing there.
func (l Layout) TaskOwnedDir() string { return storage.Join(l.JobDir, "taskowned") }

// MetadataName is the file that marks a checkpoint complete.
const MetadataName = "_metadata"

// OperatorSnapshot is what one operator of a task produced in the
// synchronous phase of a checkpoint; Upload turns it into handles.
type OperatorSnapshot struct {
	Vertex  int
	Subtask int
	// OpState is the operator (non-keyed) state, nil when none.
	OpState operator.State
	// Keyed is the Pebble checkpoint of keyed state, nil for non-keyed.
	Keyed *KeyedSnapshot
}

// KeyedSnapshot is a Pebble checkpoint in a local staging directory.
type KeyedSnapshot struct {
	Staging   string
	Files     []state.File
	BackendID string
	Range     keygroup.Range
}

// SubtaskResult is one operator subtask's acknowledged state.
type SubtaskResult struct {
	Vertex, Subtask int
	State           *snapshot.SubtaskState
	// StateSize is the full size the state refers to; Checkpointed is what
	// this checkpoint uploaded.
	StateSize, Checkpointed int64
	// Pinned are the shared files this state references (pinned in the
	// registry until the checkpoint completes or is aborted).
	Pinned []string
}

// NewHandleID returns a random UUID-shaped id (Flink uses UUIDs for state
// handle and backend identifiers).
func NewHandleID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// FlinkPath spells a storage URI the way Flink writes paths into
// _metadata: local paths as file:/abs/path, HDFS as is.
func FlinkPath(uri string) string {
	loc, err := storage.Parse(uri)
	if err != nil || !loc.IsLocal() {
		return uri
	}
	p := loc.Path
	if loc.Scheme == "" {
		if abs, err := filepath.Abs(p); err == nil {
			p = filepath.ToSlash(abs)
		}
	}
	return "file:" + p
}

// memoryThreshold: operator state streams below it are inlined into
// _metadata, as Flink does below state.storage.fs.memory-threshold (20 KB).
const memoryThreshold = 20 << 10

// Upload is the asynchronous phase for one operator subtask: keyed state
// files go to shared/ (SSTs, once per backend instance when incremental)
// and chk-N/ (the rest); operator state is inlined or written to chk-N/.
//
// Upload refuses to start, and stops between files, once checkpoint id is
// no longer pending (aborted) when l comes from a Coordinator; on failure
// it releases the shared files it pinned and removes those nothing else
// references (its own uploads).
func Upload(ctx context.Context, l Layout, reg *Registry, id int64, incremental bool, s OperatorSnapshot) (res SubtaskResult, err error) {
	res = SubtaskResult{Vertex: s.Vertex, Subtask: s.Subtask, State: &snapshot.SubtaskState{Index: int32(s.Subtask)}}
	defer func() {
		if err != nil {
			removeShared(l.FS, reg.Unpin(res.Pinned))
			res.Pinned = nil
		}
	}()
	chk := l.ChkDir(id)
	stillPending := func() error {
		if g, ok := l.FS.(interface{ pendingCheckpoint(int64) bool }); ok && !g.pendingCheckpoint(id) {
			return fmt.Errorf("checkpoint %d: %w", id, ErrNotPending)
		}
		return nil
	}
	if err := stillPending(); err != nil {
		return res, err
	}
	if s.OpState != nil {
		data, states := EncodeOperatorState(s.OpState)
		var h snapshot.StreamHandle
		if len(data) <= memoryThreshold {
			h = &snapshot.ByteStreamHandle{Name: ChecksummedName(data), Data: data}
		} else {
			name := ChecksummedName(data)
			if err := storage.WriteFile(ctx, l.FS, storage.Join(chk, name), data, storage.CreateOptions{}); err != nil {
				return res, err
			}
			h = snapshot.NewRelativeFileHandle(name, int64(len(data)))
			res.Checkpointed += int64(len(data))
		}
		res.State.ManagedOperatorState = snapshot.NewOperatorStreamHandle(h, states...)
		res.StateSize += int64(len(data))
	}
	if k := s.Keyed; k != nil {
		// A FULL checkpoint uploads every file afresh: it references
		// nothing earlier, while later checkpoints may reuse its uploads.
		reuse := incremental && !reg.IsFull(id)
		var shared, private []snapshot.NamedHandle
		var files []state.File
		for _, f := range k.Files {
			if f.Prefetch != nil {
				// A new base image of the backend's chain, not part of
				// this checkpoint: uploaded in the background.
				if incremental {
					prefetch(ctx, l, reg, k.BackendID, f.Prefetch)
				}
				continue
			}
			files = append(files, f)
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		for _, f := range files {
			if err := stillPending(); err != nil {
				return res, err
			}
			res.StateSize += f.Size
			if f.Shared && incremental {
				if uri := reuseURI(reg, reuse, k.BackendID, f.Name); uri != "" {
					res.Pinned = append(res.Pinned, uri)
					shared = append(shared, snapshot.NamedHandle{LocalName: f.Name, Handle: snapshot.NewFileHandle(uri, f.Size)})
					continue
				}
				uri := storage.Join(l.SharedDir(), NewHandleID())
				if err := uploadFile(ctx, l.FS, f.Path, uri); err != nil {
					return res, err
				}
				if UploadHook != nil {
					UploadHook(id, uri)
				}
				reg.Uploaded(k.BackendID, f.Name, FlinkPath(uri), f.Size)
				res.Pinned = append(res.Pinned, FlinkPath(uri))
				res.Checkpointed += f.Size
				shared = append(shared, snapshot.NamedHandle{LocalName: f.Name, Handle: snapshot.NewFileHandle(FlinkPath(uri), f.Size)})
				continue
			}
			name := NewHandleID()
			if err := uploadFile(ctx, l.FS, f.Path, storage.Join(chk, name)); err != nil {
				return res, err
			}
			if UploadHook != nil {
				UploadHook(id, storage.Join(chk, name))
			}
			res.Checkpointed += f.Size
			private = append(private, snapshot.NamedHandle{LocalName: f.Name, Handle: snapshot.NewRelativeFileHandle(name, f.Size)})
		}
		meta := []byte(enginefmt.MetaNative)
		r := snapshot.KeyGroupRange{Start: int32(k.Range.Start), Count: int32(k.Range.Len())}
		res.State.ManagedKeyedState = snapshot.NewIncrementalHandle(id, k.BackendID, r, res.Checkpointed,
			&snapshot.ByteStreamHandle{Name: NewHandleID(), Data: meta}, shared, private, NewHandleID())
		os.RemoveAll(k.Staging)
	}
	return res, nil
}

// prefetch uploads a backend's new base image into shared/ in the
// background, once (Prefetch.Start), outside every checkpoint's critical
// path; the backend references the image from the checkpoint after the
// upload finished. The uploads are pinned in the registry until the
// backend lets the image go (superseded, or the backend closed); files the
// image shares with earlier uploads of the backend are reused.
func prefetch(ctx context.Context, l Layout, reg *Registry, backend string, pf *state.Prefetch) {
	if !pf.Start() {
		return
	}
	reg.background.Add(1)
	go func() {
		defer reg.background.Done()
		var uris []string
		release := func() { removeShared(l.FS, reg.Unpin(uris)) }
		for _, f := range pf.Files {
			if uri := reg.Reuse(backend, f.Name); uri != "" {
				uris = append(uris, uri)
				continue
			}
			uri := storage.Join(l.SharedDir(), NewHandleID())
			if err := uploadFile(ctx, l.FS, f.Path, uri); err != nil {
				release()
				pf.Finish(err, nil)
				return
			}
			reg.Uploaded(backend, f.Name, FlinkPath(uri), f.Size)
			reg.addBackground(f.Size)
			uris = append(uris, FlinkPath(uri))
		}
		pf.Finish(nil, release)
	}()
}

// removeShared removes shared files the registry released as unreferenced
// (Unpin, Unref only return files the job may delete), one file at a time
// and never through a link. A file that cannot go stays: it is reported by
// ckpt's orphan scan, never deleted by guesswork.
func removeShared(fsys storage.FS, uris []string) {
	if len(uris) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, u := range uris {
		snapshot.RemoveFiles(ctx, fsys, storage.Dir(u), []string{u}, snapshot.Disposal{})
	}
}

// reuseURI is the already uploaded copy of a backend's file to reference
// (pinned), or "" when the file must be uploaded.
func reuseURI(reg *Registry, reuse bool, backend, local string) string {
	if !reuse {
		return ""
	}
	return reg.Reuse(backend, local)
}

// UploadHook, when set, is called after each file a checkpoint uploads
// (fault injection: tests kill the process in the middle of an upload).
var UploadHook func(checkpointID int64, uri string)

func uploadFile(ctx context.Context, fsys storage.FS, local, uri string) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := fsys.Create(ctx, uri, storage.CreateOptions{})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Abort()
		return fmt.Errorf("upload %s to %s: %w", local, uri, err)
	}
	return w.Close()
}

// EncodeOperatorState lays operator state out as one stream: for each name
// (sorted), its entries, each framed as uvarint length + bytes; the
// returned offsets point at each entry's frame so entries can be split
// between subtasks on rescale, like Flink's SPLIT_DISTRIBUTE list state.
func EncodeOperatorState(st operator.State) ([]byte, []snapshot.NamedOperatorState) {
	names := make([]string, 0, len(st))
	for n := range st {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	var out []snapshot.NamedOperatorState
	for _, n := range names {
		ns := snapshot.NamedOperatorState{Name: n, Mode: snapshot.SplitDistribute}
		if strings.HasPrefix(n, operator.UnionPrefix) {
			ns.Mode = snapshot.Union
		}
		for _, e := range st[n] {
			ns.Offsets = append(ns.Offsets, int64(buf.Len()))
			buf.Write(binary.AppendUvarint(nil, uint64(len(e))))
			buf.Write(e)
		}
		out = append(out, ns)
	}
	return buf.Bytes(), out
}

// DecodeOperatorState reads entries back from a stream written by
// EncodeOperatorState.
func DecodeOperatorState(data []byte, states []snapshot.NamedOperatorState, into operator.State) error {
	for _, ns := range states {
		for _, off := range ns.Offsets {
			if off < 0 || off >= int64(len(data)) {
				return fmt.Errorf("operator state %q: offset %d outside stream of %d bytes", ns.Name, off, len(data))
			}
			n, k := binary.Uvarint(data[off:])
			if k <= 0 || uint64(len(data))-uint64(off)-uint64(k) < n {
				return fmt.Errorf("operator state %q: corrupt entry at offset %d", ns.Name, off)
			}
			into[ns.Name] = append(into[ns.Name], append([]byte(nil), data[off+int64(k):off+int64(k)+int64(n)]...))
		}
		if _, ok := into[ns.Name]; !ok {
			into[ns.Name] = nil
		}
	}
	return nil
}

// ReadStream returns the bytes of a stream handle; relative handles resolve
// against exclusiveDir (the directory holding _metadata).
func ReadStream(ctx context.Context, fsys storage.FS, h snapshot.StreamHandle, exclusiveDir string) ([]byte, error) {
	switch x := h.(type) {
	case *snapshot.ByteStreamHandle:
		return x.Data, nil
	case *snapshot.FileHandle:
		return storage.ReadAll(ctx, fsys, x.Path)
	case *snapshot.RelativeFileHandle:
		uri, err := snapshot.ResolveRelative(exclusiveDir, x.RelativePath)
		if err != nil {
			return nil, err
		}
		return storage.ReadAll(ctx, fsys, uri)
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("state handle kind %v is not supported by the ckpt engine", h.Tag())
}

// StreamURI is where a file-backed stream handle lives ("" for inline).
// Relative handles that would escape the snapshot directory are refused.
func StreamURI(h snapshot.StreamHandle, exclusiveDir string) (string, error) {
	switch x := h.(type) {
	case *snapshot.FileHandle:
		return x.Path, nil
	case *snapshot.RelativeFileHandle:
		return snapshot.ResolveRelative(exclusiveDir, x.RelativePath)
	}
	return "", nil
}

// Download copies a stream handle's bytes to a local file.
func Download(ctx context.Context, fsys storage.FS, h snapshot.StreamHandle, exclusiveDir, local string) error {
	uri, err := StreamURI(h, exclusiveDir)
	if err != nil {
		return err
	}
	if uri != "" {
		src, err := fsys.Open(ctx, uri)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := os.Create(local)
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return fmt.Errorf("download %s: %w", uri, err)
		}
		return dst.Close()
	}
	data, err := ReadStream(ctx, fsys, h, exclusiveDir)
	if err != nil {
		return err
	}
	return os.WriteFile(local, data, 0o644)
}

// RestoreKeyed downloads an incremental keyed handle's files into dir (a
// fresh directory) so that state.Open(dir) opens the checkpointed state. It
// returns the local-name → URI map of shared files for Registry.Seed.
func RestoreKeyed(ctx context.Context, fsys storage.FS, h *snapshot.IncrementalHandle, exclusiveDir, dir string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	shared := map[string]string{}
	for _, group := range [][]snapshot.NamedHandle{h.Shared, h.Private} {
		for _, f := range group {
			if strings.ContainsAny(f.LocalName, `/\`) || f.LocalName == "" || f.LocalName == "." || f.LocalName == ".." {
				return nil, fmt.Errorf("keyed state file name %q is not a plain file name", f.LocalName)
			}
			if err := Download(ctx, fsys, f.Handle, exclusiveDir, filepath.Join(dir, f.LocalName)); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range h.Shared {
		if u, _ := StreamURI(f.Handle, exclusiveDir); u != "" {
			shared[f.LocalName] = u
		}
	}
	return shared, nil
}

// SharedURIs lists the shared files a metadata references (absolute file
// handles under the job's shared/ directory).
func SharedURIs(m *snapshot.Metadata) []string {
	var out []string
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			if ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
				for _, f := range ih.Shared {
					if fh, ok := f.Handle.(*snapshot.FileHandle); ok {
						out = append(out, fh.Path)
					}
				}
			}
		}
	}
	return out
}

// since is a small helper for durations in acks.
func since(t time.Time) time.Duration { return time.Since(t) }
