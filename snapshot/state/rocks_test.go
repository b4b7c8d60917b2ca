package state

import (
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
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

// Range tombstones: the ones Flink writes to clip a rescaled RocksDB to
// its key groups lie outside them (ignored: those keys are skipped
// anyway); one reaching into the held key groups is refused.
func TestRangeTombstoneOverlap(t *testing.T) {
	r := snapshot.KeyGroupRange{Start: 10, Count: 5} // 10..14
	for _, c := range []struct {
		name       string
		start, end []byte
		maxPar     int32
		want       bool
	}{
		{"below", []byte{0}, []byte{10}, 128, false},
		{"above", []byte{15}, []byte{0xFF}, 128, false},
		{"reaches the first group", []byte{0}, []byte{10, 0}, 128, true},
		{"starts in the last group", []byte{14, 0xFF}, []byte{20}, 128, true},
		{"inside", []byte{12}, []byte{13}, 128, true},
		{"empty range", []byte{12}, []byte{12}, 128, false},
		{"two-byte prefix below", []byte{0, 0}, []byte{0, 10}, 200, false},
		{"two-byte prefix above", []byte{0, 15}, []byte{0, 200}, 200, false},
		{"two-byte prefix inside", []byte{0, 9, 5}, []byte{0, 10, 1}, 200, true},
	} {
		if got := overlapsKeyGroups(c.start, c.end, r, c.maxPar); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// The last key groups of the key space have no upper bound.
	last := snapshot.KeyGroupRange{Start: 120, Count: 8}
	if !overlapsKeyGroups([]byte{127, 5}, []byte{0xFF, 0xFF}, last, 128) || overlapsKeyGroups([]byte{0}, []byte{120}, last, 128) {
		t.Error("range at the end of the key space")
	}
}
