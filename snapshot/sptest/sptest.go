// Package sptest writes small, real savepoints, savepoint trees and
// checkpoints for the tests of the packages that list, dispose and audit
// them (savepoints, inspector, snapshot, cli, tui).
package sptest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Write writes a savepoint into dir with one keyed operator whose 400
// bytes of state live in a file: inside dir (a relative handle, as Flink
// writes self-contained savepoints) or, with external set, at that
// absolute local path. On local disk _metadata gets mtime at.
func Write(t testing.TB, fsys storage.FS, dir string, format snapshot.SavepointFormat, id int64, at time.Time, external string) string {
	t.Helper()
	ctx := context.Background()
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: id}
	if err := m.SetProperties(snapshot.SavepointProperties(format, snapshot.ActionNone)); err != nil {
		t.Fatal(err)
	}
	op := snapshot.NewOperatorState("count", "count", 1, 128)
	var data snapshot.StreamHandle = snapshot.NewRelativeFileHandle("state-0", 400)
	if external != "" {
		data = snapshot.NewFileHandle("file:"+external, 400)
	}
	op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(snapshot.KeyGroupRange{Start: 0, Count: 128}, make([]int64, 128), data)}}
	m.Operators = []*snapshot.OperatorState{op}
	if err := fsys.MkdirAll(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := storage.WriteFile(ctx, fsys, storage.Join(dir, "state-0"), make([]byte, 400), storage.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	meta := storage.Join(dir, snapshot.MetadataFileName)
	if err := snapshot.Write(ctx, fsys, meta, m); err != nil {
		t.Fatal(err)
	}
	Touch(meta, at)
	return dir
}

// WriteCheckpoint writes <jobDir>/chk-<id>/_metadata: an incremental
// checkpoint of one keyed operator whose shared files are the given paths
// (absolute file: handles, as Flink writes shared SSTs). On local disk
// _metadata gets mtime at (zero: now). It returns the _metadata URI.
func WriteCheckpoint(t testing.TB, fsys storage.FS, jobDir string, id int64, at time.Time, files ...string) string {
	t.Helper()
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: id}
	if err := m.SetProperties(snapshot.CheckpointProperties()); err != nil {
		t.Fatal(err)
	}
	op := snapshot.NewOperatorState("count", "count", 1, 128)
	var sh []snapshot.NamedHandle
	for i, f := range files {
		sh = append(sh, snapshot.NamedHandle{LocalName: fmt.Sprintf("%06d.sst", i), Handle: snapshot.NewFileHandle("file:"+f, 1)})
	}
	op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewIncrementalHandle(id, "b", snapshot.KeyGroupRange{Start: 0, Count: 128}, 1,
		&snapshot.ByteStreamHandle{Name: "m", Data: []byte{1}}, sh, nil, "h")}}
	m.Operators = []*snapshot.OperatorState{op}
	meta := storage.Join(jobDir, snapshot.CheckpointDirName(id), snapshot.MetadataFileName)
	if err := snapshot.Write(context.Background(), fsys, meta, m); err != nil {
		t.Fatal(err)
	}
	Touch(meta, at)
	return meta
}

// Touch sets a local file's mtime (no-op for remote URIs).
func Touch(uri string, at time.Time) {
	if loc, err := storage.Parse(uri); err == nil && loc.IsLocal() && !at.IsZero() {
		os.Chtimes(loc.Path, at, at)
	}
}

// Tree builds a savepoint tree under root as of now: job aaaaaa has three
// savepoints (30 d, 10 d — NATIVE — and 1 h old; the newest one level down
// in team/), job bbbbbb one (40 d, in team/), cccccc a directory cut short
// (no _metadata), dddddd a checkpoint's _metadata under a savepoint name
// (50 d), and a job checkpoint directory whose chk-N and shared/ hold
// savepoint-shaped directories that must not be listed.
func Tree(t testing.TB, fsys storage.FS, root string, now time.Time) {
	t.Helper()
	day := 24 * time.Hour
	Write(t, fsys, storage.Join(root, "savepoint-aaaaaa-000000000001"), snapshot.FormatCanonical, 10, now.Add(-30*day), "")
	Write(t, fsys, storage.Join(root, "savepoint-aaaaaa-000000000002"), snapshot.FormatNative, 20, now.Add(-10*day), "")
	Write(t, fsys, storage.Join(root, "team/savepoint-aaaaaa-000000000003"), snapshot.FormatCanonical, 30, now.Add(-time.Hour), "")
	Write(t, fsys, storage.Join(root, "team/savepoint-bbbbbb-000000000001"), snapshot.FormatCanonical, 5, now.Add(-40*day), "")
	ctx := context.Background()
	if err := fsys.MkdirAll(ctx, storage.Join(root, "savepoint-cccccc-000000000009")); err != nil {
		t.Fatal(err)
	}
	Touch(storage.Join(root, "savepoint-cccccc-000000000009"), now.Add(-2*time.Hour))
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 3}
	m.SetProperties(snapshot.CheckpointProperties())
	fake := storage.Join(root, "savepoint-dddddd-000000000001", snapshot.MetadataFileName)
	if err := snapshot.Write(ctx, fsys, fake, m); err != nil {
		t.Fatal(err)
	}
	Touch(fake, now.Add(-50*day))
	job := storage.Join(root, "ckpts/a1b2c3d4e5f60718293a4b5c6d7e8f90")
	Write(t, fsys, storage.Join(job, "chk-3/savepoint-eeeeee-000000000001"), snapshot.FormatCanonical, 1, now, "")
	Write(t, fsys, storage.Join(job, "shared/savepoint-eeeeee-000000000002"), snapshot.FormatCanonical, 1, now, "")
}
