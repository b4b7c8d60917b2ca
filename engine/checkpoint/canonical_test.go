package checkpoint

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/storage"
)

// canonicalSavepoint writes keys across the key groups of r into a
// backend and returns its canonical savepoint handle (in dir) and the
// values written.
func canonicalSavepoint(t *testing.T, dir string, r keygroup.Range, keys int) (*snapshot.KeyGroupsHandle, map[string][]byte) {
	t.Helper()
	b, err := state.Open(filepath.Join(dir, "db"), state.Options{MaxParallelism: 128, KeyGroups: r})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	vs, _ := state.Value(b, "v", state.Bytes{})
	ls, _ := state.Value(b, "w", state.Bytes{}) // a second state: ids interleave within a key group
	model := map[string][]byte{}
	for i := 0; len(model) < 2*keys; i++ {
		k := fmt.Sprintf("key-%d", i)
		if !r.Contains(b.KeyGroup(k)) {
			continue
		}
		v := bytes.Repeat([]byte{byte(i)}, 1+i%300)
		vs.Put(k, v)
		ls.Put(k, append([]byte("w"), v...))
		model["v/"+k], model["w/"+k] = v, append([]byte("w"), v...)
	}
	staging := filepath.Join(dir, "staging")
	files, err := b.Checkpoint(staging)
	if err != nil {
		t.Fatal(err)
	}
	sp := &SavepointTarget{Dir: filepath.Join(dir, "sp"), Format: snapshot.FormatCanonical}
	os.MkdirAll(sp.Dir, 0o755)
	res, err := UploadSavepoint(context.Background(), storage.Default(), sp, 1, OperatorSnapshot{
		Keyed: &KeyedSnapshot{Staging: staging, Files: files, BackendID: NewHandleID(), Range: r}})
	if err != nil {
		t.Fatal(err)
	}
	return res.State.ManagedKeyedState.(*snapshot.KeyGroupsHandle), model
}

// Canonical savepoints restore at any parallelism: each new subtask reads
// only the byte range of its key groups (offsets ascend), or the whole
// stream when they do not; every key lands exactly once with its value.
func TestCanonicalRestoreRescales(t *testing.T) {
	tmp := t.TempDir()
	// Parallelism 2 at max parallelism 128: old subtasks [0,63], [64,127].
	old := []keygroup.Range{{Start: 0, End: 63}, {Start: 64, End: 127}}
	var handles []*snapshot.KeyGroupsHandle
	model := map[string][]byte{}
	for i, r := range old {
		h, m := canonicalSavepoint(t, filepath.Join(tmp, fmt.Sprintf("old-%d", i)), r, 3000)
		handles = append(handles, h)
		for k, v := range m {
			model[k] = v
		}
	}
	reversed := func(i int) *snapshot.KeyGroupsHandle {
		// The same entries with the key groups laid out last to first, so
		// offsets descend: a stream ckpt did not write this way must still
		// restore (read whole).
		h := handles[i]
		dir := filepath.Join(tmp, fmt.Sprintf("old-%d", i), "sp")
		data, err := ReadStream(context.Background(), storage.Default(), h.Delegate, dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		offs := make([]int64, len(h.Offsets))
		for j := len(h.Offsets) - 1; j >= 0; j-- {
			end := int64(len(data))
			if j+1 < len(h.Offsets) {
				end = h.Offsets[j+1]
			}
			offs[j] = int64(len(out))
			out = append(out, data[h.Offsets[j]:end]...)
		}
		os.WriteFile(filepath.Join(dir, "reversed"), out, 0o644)
		return snapshot.NewSavepointKeyGroupsHandle(h.Range, offs, snapshot.NewRelativeFileHandle("reversed", int64(len(out))))
	}
	for _, tc := range []struct {
		name        string
		parallelism int
		handles     func() []*snapshot.KeyGroupsHandle
	}{
		{"same parallelism", 2, func() []*snapshot.KeyGroupsHandle { return handles }},
		{"scale out 2 to 4", 4, func() []*snapshot.KeyGroupsHandle { return handles }},
		{"scale out 2 to 3", 3, func() []*snapshot.KeyGroupsHandle { return handles }},
		{"scale in 2 to 1", 1, func() []*snapshot.KeyGroupsHandle { return handles }},
		{"offsets descending", 4, func() []*snapshot.KeyGroupsHandle {
			return []*snapshot.KeyGroupsHandle{reversed(0), reversed(1)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]int{}
			for sub := 0; sub < tc.parallelism; sub++ {
				r := keygroup.RangeFor(128, tc.parallelism, sub)
				b, err := state.Open(filepath.Join(t.TempDir(), "db"), state.Options{MaxParallelism: 128, KeyGroups: r})
				if err != nil {
					t.Fatal(err)
				}
				for i, h := range tc.handles() {
					if err := RestoreCanonical(context.Background(), storage.Default(), h, filepath.Join(tmp, fmt.Sprintf("old-%d", i), "sp"),
						b, [2]int{r.Start, r.End}); err != nil {
						t.Fatalf("subtask %d from old subtask %d: %v", sub, i, err)
					}
				}
				for _, name := range []string{"v", "w"} {
					vs, _ := state.Value(b, name, state.Bytes{})
					for k, want := range model {
						key, ok := strings.CutPrefix(k, name+"/")
						if !ok {
							continue
						}
						got, found, err := vs.Get(key)
						if err != nil {
							t.Fatal(err)
						}
						if r.Contains(b.KeyGroup(key)) != found {
							t.Fatalf("subtask %d %v: key %s (group %d) found=%v", sub, r, key, b.KeyGroup(key), found)
						}
						if found {
							seen[k]++
							if !bytes.Equal(got, want) {
								t.Fatalf("subtask %d: %s = %q, want %q", sub, k, got, want)
							}
						}
					}
				}
				b.Close()
			}
			for k := range model {
				if seen[k] != 1 {
					t.Fatalf("%s restored %d times", k, seen[k])
				}
			}
		})
	}
}

// A canonical handle whose offsets point past its stream is refused with
// an error naming the stream, not a panic.
func TestCanonicalRestoreBadOffsets(t *testing.T) {
	tmp := t.TempDir()
	r := keygroup.Range{Start: 0, End: 127}
	h, _ := canonicalSavepoint(t, tmp, r, 100)
	for _, tc := range []struct {
		name string
		offs func([]int64)
		want string
	}{
		{"ascending, past the end", func(o []int64) {
			for i := range o {
				o[i] += 1 << 30
			}
		}, "beyond its"},
		{"descending, past the end", func(o []int64) { o[0] = 1 << 40 }, "outside a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := *h
			bad.Offsets = append([]int64(nil), h.Offsets...)
			tc.offs(bad.Offsets)
			b, err := state.Open(filepath.Join(t.TempDir(), "db"), state.Options{MaxParallelism: 128, KeyGroups: r})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			err = RestoreCanonical(context.Background(), storage.Default(), &bad, filepath.Join(tmp, "sp"), b, [2]int{0, 127})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
