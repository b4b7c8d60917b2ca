package checkpoint

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/storage"
)

// Incremental checkpoints upload their own delta and nothing else, every
// time — also while new base images are materialized and uploaded in the
// background, and after checkpoints switch to them. Retention deletes
// exactly what no retained checkpoint references, and the newest
// checkpoint restores to the state at its barrier.
func TestIncrementalUploadIsTheDelta(t *testing.T) {
	tmp := t.TempDir()
	b, err := state.Open(filepath.Join(tmp, "db"), state.Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127},
		ChainDeltas: 4})
	if err != nil {
		t.Fatal(err)
	}
	vs, _ := state.Value(b, "v", state.Bytes{})
	rnd := rand.New(rand.NewSource(1))
	const keys = 20000
	model := map[string][]byte{}
	put := func(i int) int {
		k := fmt.Sprintf("key%08d", i)
		v := make([]byte, 100)
		rnd.Read(v)
		vs.Put(k, v)
		model[k] = v
		return len(k) + len(v)
	}
	for i := 0; i < keys; i++ {
		put(i)
	}
	l := Layout{FS: storage.Default(), JobDir: filepath.Join(tmp, "job")}
	reg := NewRegistry()
	backend := NewHandleID()
	type done struct {
		id     int64
		shared []string
		res    SubtaskResult
	}
	var retained []done
	const numRetained = 2
	for id := int64(1); id <= 14; id++ {
		changed := 0
		if id > 1 {
			for i := int(id); i < keys; i += 100 { // 1% of the keys
				changed += put(i)
			}
		}
		os.MkdirAll(l.ChkDir(id), 0o755)
		os.MkdirAll(l.SharedDir(), 0o755)
		staging := filepath.Join(tmp, fmt.Sprintf("staging-%d", id))
		files, err := b.Checkpoint(staging)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Upload(context.Background(), l, reg, id, true, OperatorSnapshot{
			Keyed: &KeyedSnapshot{Staging: staging, Files: files, BackendID: backend, Range: b.KeyGroups()}})
		if err != nil {
			t.Fatal(err)
		}
		// The next checkpoint finds the background upload done (on a
		// running job it usually is, and if not, it keeps the old base).
		reg.WaitBackground()
		ih := res.State.ManagedKeyedState.(*snapshot.IncrementalHandle)
		var sharedUp, privateUp int64
		for _, f := range files {
			if f.Prefetch == nil && !f.Shared {
				privateUp += f.Size
			}
		}
		sharedUp = res.Checkpointed - privateUp
		st := b.Chain()
		t.Logf("chk %d: uploaded %d shared + %d private bytes for %d changed; chain %d deltas, base %d B, %d images; background total %d B",
			id, sharedUp, privateUp, changed, st.Deltas, st.BaseBytes, st.Materialized, reg.BackgroundBytes())
		if id > 1 && sharedUp > 2*int64(changed) {
			t.Errorf("checkpoint %d uploaded %d shared bytes for %d changed bytes (> 2×)", id, sharedUp, changed)
		}
		if privateUp > 64<<10 {
			t.Errorf("checkpoint %d uploaded %d private bytes", id, privateUp)
		}
		d := done{id: id, res: res}
		for _, f := range ih.Shared {
			d.shared = append(d.shared, f.Handle.(*snapshot.FileHandle).Path)
		}
		// Complete it, then retain the newest numRetained.
		reg.Ref(res.Pinned)
		for _, u := range reg.Unpin(res.Pinned) {
			os.Remove(localPath(u))
		}
		retained = append(retained, d)
		for len(retained) > numRetained {
			for _, u := range reg.Unref(retained[0].shared) {
				os.Remove(localPath(u))
			}
			retained = retained[1:]
		}
	}
	if st := b.Chain(); st.Materialized == 0 || reg.BackgroundBytes() == 0 {
		t.Fatalf("no base image was materialized and uploaded in the background: %+v", st)
	}
	b.Close()
	reg.WaitBackground()
	// shared/ holds exactly what the retained checkpoints reference.
	referenced := map[string]bool{}
	for _, d := range retained {
		for _, u := range d.shared {
			referenced[filepath.Base(localPath(u))] = true
		}
	}
	ents, _ := os.ReadDir(l.SharedDir())
	for _, e := range ents {
		if !referenced[e.Name()] {
			t.Errorf("shared/%s is referenced by no retained checkpoint", e.Name())
		}
		delete(referenced, e.Name())
	}
	for n := range referenced {
		t.Errorf("shared/%s is referenced but missing", n)
	}
	last := retained[len(retained)-1]
	dir := filepath.Join(tmp, "restored")
	if _, err := RestoreKeyed(context.Background(), storage.Default(), last.res.State.ManagedKeyedState.(*snapshot.IncrementalHandle),
		l.ChkDir(last.id), dir); err != nil {
		t.Fatal(err)
	}
	r, err := state.Open(dir, state.Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rv, _ := state.Value(r, "v", state.Bytes{})
	for k, want := range model {
		v, ok, err := rv.Get(k)
		if err != nil || !ok || !bytes.Equal(v, want) {
			t.Fatalf("restored %s: %v %v", k, ok, err)
		}
	}
}

// localPath turns a file: URI into a local path (tests).
func localPath(uri string) string {
	if loc, err := storage.Parse(uri); err == nil && loc.IsLocal() {
		return loc.Path
	}
	return uri
}
