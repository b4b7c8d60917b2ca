package state

import (
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot/state/sst"
)

// RocksDB's read rules over one key's versions, newest first.
func TestResolveVersions(t *testing.T) {
	v := func(kind sst.Kind, val string) versioned { return versioned{kind: kind, value: []byte(val)} }
	for _, c := range []struct {
		name     string
		versions []versioned
		want     string
		live     bool
	}{
		{"put", []versioned{v(sst.KindPut, "a")}, "a", true},
		{"newest put wins", []versioned{v(sst.KindPut, "b"), v(sst.KindPut, "a")}, "b", true},
		{"deleted", []versioned{v(sst.KindDelete, ""), v(sst.KindPut, "a")}, "", false},
		{"single delete", []versioned{v(sst.KindSingleDelete, "")}, "", false},
		{"merges alone, oldest first", []versioned{v(sst.KindMerge, "c"), v(sst.KindMerge, "b"), v(sst.KindMerge, "a")}, "a,b,c", true},
		{"merges onto a put", []versioned{v(sst.KindMerge, "c"), v(sst.KindPut, "b"), v(sst.KindMerge, "a")}, "b,c", true},
		{"merges after a delete", []versioned{v(sst.KindMerge, "c"), v(sst.KindDelete, ""), v(sst.KindPut, "a")}, "c", true},
	} {
		got, live := resolve(c.versions)
		if live != c.live || string(got) != c.want {
			t.Errorf("%s: %q live=%v, want %q live=%v", c.name, got, live, c.want, c.live)
		}
	}
}
