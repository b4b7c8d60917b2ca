package state

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	sstate "github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// snapshot/state reads a native snapshot whose chain has a base image (a
// Pebble checkpoint: MANIFEST, OPTIONS, tables) under delta tables, with
// value, list and map state, overwrites and deletes: every entry as the
// backend holds it.
func TestSnapshotReaderOverBaseImages(t *testing.T) {
	tmp := t.TempDir()
	b, err := Open(filepath.Join(tmp, "db"), Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}, CacheEntries: 4, ChainDeltas: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	counts, _ := Value(b, "count", Int64{})
	lists, _ := List(b, "seen")
	maps, _ := Map(b, "m")
	model := map[string]int64{}
	listModel := map[string][]any{}
	mapModel := map[string]map[string]bool{}
	var files []File
	var dir string
	for round := 0; round < 8; round++ {
		for i := 0; i < 50; i++ {
			k := fmt.Sprintf("k%d", (i*7+round)%40)
			if (i+round)%9 == 0 {
				counts.Delete(k)
				delete(model, k)
				continue
			}
			model[k] += int64(i + 1)
			counts.Put(k, model[k])
		}
		lk := fmt.Sprintf("l%d", round%3)
		lists.Add(lk, []byte(fmt.Sprint(round)))
		listModel[lk] = append(listModel[lk], rawBytes(fmt.Sprint(round)))
		mk := fmt.Sprintf("m%d", round%2)
		maps.Put(mk, []byte(fmt.Sprint("e", round)), []byte("v"))
		if mapModel[mk] == nil {
			mapModel[mk] = map[string]bool{}
		}
		mapModel[mk][fmt.Sprint("e", round)] = true
		dir = filepath.Join(tmp, fmt.Sprintf("chk-%d", round))
		if files, err = b.Checkpoint(dir); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.Chain(); st.BaseBytes == 0 || st.Deltas == 0 {
		t.Fatalf("no base image under deltas: %+v", st)
	}
	var private []snapshot.NamedHandle
	hasManifest := false
	for _, f := range files {
		if f.Prefetch != nil {
			continue
		}
		hasManifest = hasManifest || filepath.Base(f.Name)[:min(len(f.Name), 9)] == "MANIFEST-"
		private = append(private, snapshot.NamedHandle{LocalName: f.Name, Handle: snapshot.NewRelativeFileHandle(f.Name, f.Size)})
	}
	if !hasManifest {
		t.Fatalf("the snapshot has no base image: %v", private)
	}
	h := snapshot.NewIncrementalHandle(1, "backend", snapshot.KeyGroupRange{Start: 0, Count: 128}, 0,
		&snapshot.ByteStreamHandle{Name: "meta", Data: []byte(enginefmt.MetaNative)}, nil, private, "h")
	op := &snapshot.OperatorState{UID: "op", ID: snapshot.OperatorIDFromUID("op"), Parallelism: 1, MaxParallelism: 128,
		Subtasks: []*snapshot.SubtaskState{{ManagedKeyedState: h}}}
	m := &snapshot.Metadata{Version: 3, Operators: []*snapshot.OperatorState{op}, ExclusiveDir: dir}
	gotCounts := map[string]int64{}
	gotLists := map[string][]any{}
	gotMaps := map[string]map[string]bool{}
	err = sstate.ReadKeyed(context.Background(), storage.Default(), m, op, "", func(e sstate.Entry) error {
		k := e.Key.(string)
		switch e.State {
		case "count":
			gotCounts[k] = e.Value.(int64)
		case "seen":
			gotLists[k] = e.Value.([]sstate.Value)
		case "m":
			if gotMaps[k] == nil {
				gotMaps[k] = map[string]bool{}
			}
			gotMaps[k][string(rawHex(e.UserKey))] = true
		default:
			t.Errorf("entry of state %q", e.State)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotCounts, model) {
		t.Errorf("count: %v\nwant %v", gotCounts, model)
	}
	if len(gotLists) != len(listModel) {
		t.Errorf("lists %v, want %v", gotLists, listModel)
	}
	for k, want := range listModel {
		if len(gotLists[k]) != len(want) {
			t.Errorf("list %s: %v, want %v", k, gotLists[k], want)
			continue
		}
		for i := range want {
			if rawHex(gotLists[k][i]) != rawHex(want[i]) {
				t.Errorf("list %s[%d]: %v, want %v", k, i, gotLists[k][i], want[i])
			}
		}
	}
	wantMaps := map[string]map[string]bool{}
	for k, es := range mapModel {
		wantMaps[k] = map[string]bool{}
		for e := range es {
			wantMaps[k][rawHex(rawBytes(e))] = true
		}
	}
	if !reflect.DeepEqual(gotMaps, wantMaps) {
		t.Errorf("maps %v, want %v", gotMaps, wantMaps)
	}
	// A base table the MANIFEST lists but the handle does not: an error,
	// not a panic.
	var missing []snapshot.NamedHandle
	dropped := ""
	for _, f := range private {
		if dropped == "" && filepath.Ext(f.LocalName) == ".sst" && f.LocalName[:6] != "delta-" {
			dropped = f.LocalName
			continue
		}
		missing = append(missing, f)
	}
	op.Subtasks[0].ManagedKeyedState = snapshot.NewIncrementalHandle(1, "backend", snapshot.KeyGroupRange{Start: 0, Count: 128}, 0,
		&snapshot.ByteStreamHandle{Name: "meta", Data: []byte(enginefmt.MetaNative)}, nil, missing, "h")
	err = sstate.ReadKeyed(context.Background(), storage.Default(), m, op, "", func(sstate.Entry) error { return nil })
	if dropped == "" || err == nil {
		t.Fatalf("without base table %q: %v", dropped, err)
	}
	t.Logf("without %s: %v", dropped, err)
}

type rawBytes string

// rawHex is the hex of a raw value (or of test bytes).
func rawHex(v any) string {
	switch v := v.(type) {
	case sstate.Raw:
		return v.Hex
	case rawBytes:
		return fmt.Sprintf("%x", string(v))
	}
	return fmt.Sprintf("?%T", v)
}
