package state

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// Each state's schema (kind, key and value types) is recorded with the
// registry and travels with the state: through a checkpoint's chain into
// a restored backend, and through a canonical stream (where it leads the
// first key group) into a backend that imports it — also for a state the
// new job never opens.
func TestSchemasTravelWithTheState(t *testing.T) {
	tmp := t.TempDir()
	b := open(t, filepath.Join(tmp, "db"), 0)
	defer b.Close()
	counts, _ := Value(b, "count", Int64{})
	windows, _ := Value[[]byte](b, "windows", WindowCounts{})
	lists, _ := List(b, "seen")
	counts.Put("a", 3)
	windows.Put("a", make([]byte, 16))
	lists.Add("a", []byte("x"))
	want := map[string]enginefmt.Schema{
		"count":   {Kind: enginefmt.KindValue, Key: enginefmt.TypeString, Value: enginefmt.TypeInt64},
		"windows": {Kind: enginefmt.KindValue, Key: enginefmt.TypeString, Value: enginefmt.TypeWindowCounts},
		"seen":    {Kind: enginefmt.KindList, Key: enginefmt.TypeString, Value: enginefmt.TypeBytes},
	}
	check := func(what string, got map[string][]byte) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: schemas %v", what, got)
		}
		for n, s := range want {
			if !bytes.Equal(got[n], s.Encode()) {
				t.Fatalf("%s: schema of %s %q, want %+v", what, n, got[n], s)
			}
		}
	}
	chk := filepath.Join(tmp, "chk")
	if _, err := b.Checkpoint(chk); err != nil {
		t.Fatal(err)
	}
	restoreDir := filepath.Join(tmp, "restored")
	copyDir(t, chk, restoreDir)
	r := open(t, restoreDir, 0)
	check("restored from the chain", r.schemas)
	r.Close()
	stream, offsets, err := ExportKeyGroups(chk, keygroup.Range{Start: 0, End: 127})
	if err != nil {
		t.Fatal(err)
	}
	imp := open(t, filepath.Join(tmp, "imported"), 0)
	defer imp.Close()
	kgs := make([]int, 128)
	for i := range kgs {
		kgs[i] = i
	}
	if err := ImportKeyGroups(imp, stream, kgs, offsets); err != nil {
		t.Fatal(err)
	}
	check("imported from a canonical stream", imp.schemas)
	for _, n := range imp.StateNames() {
		if n == enginefmt.SchemaState {
			t.Fatalf("the schema entries became a state: %v", imp.StateNames())
		}
	}
}
