package checkpoint

import (
	"bytes"
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"

	"github.com/ckpt-dev/ckpt/engine/operator"
)

// The registry must never report a file as deletable while a retained
// checkpoint references it or a pending one has pinned it for reuse.
func TestRegistry(t *testing.T) {
	type step struct {
		do      string // uploaded, reuse, unpin, ref, unref, seed, claim
		uri     string
		local   string
		want    string   // for reuse: the URI returned
		orphans []string // for unpin/unref
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"upload, complete, subsume", []step{
			{do: "uploaded", local: "1.sst", uri: "a"},
			{do: "ref", uri: "a"},
			{do: "unpin", uri: "a", orphans: nil},
			{do: "reuse", local: "1.sst", want: "a"},
			{do: "ref", uri: "a"},
			{do: "unpin", uri: "a"},
			{do: "unref", uri: "a", orphans: nil}, // still referenced by the newer checkpoint
			{do: "unref", uri: "a", orphans: []string{"a"}},
			{do: "reuse", local: "1.sst", want: ""}, // gone: upload again
		}},
		{"aborted upload is orphaned", []step{
			{do: "uploaded", local: "2.sst", uri: "b"},
			{do: "unpin", uri: "b", orphans: []string{"b"}},
			{do: "reuse", local: "2.sst", want: ""},
		}},
		{"pinned file survives subsumption", []step{
			{do: "uploaded", local: "3.sst", uri: "c"},
			{do: "ref", uri: "c"},
			{do: "unpin", uri: "c"},
			{do: "reuse", local: "3.sst", want: "c"}, // a pending checkpoint pins it
			{do: "unref", uri: "c", orphans: nil},    // the old checkpoint goes: still pinned
			{do: "unpin", uri: "c", orphans: []string{"c"}},
		}},
		// A snapshot restored without claiming it: its files are
		// referenced and reused, never deleted by this job.
		{"restored file is never the job's to delete", []step{
			{do: "seed", local: "4.sst", uri: "/other-job/shared/d"},
			{do: "ref", uri: "/other-job/shared/d"}, // the restored checkpoint
			{do: "reuse", local: "4.sst", want: "/other-job/shared/d"},
			{do: "unref", uri: "/other-job/shared/d", orphans: nil}, // restored one subsumed: still pinned
			{do: "unpin", uri: "/other-job/shared/d", orphans: nil}, // unreferenced, yet not the job's
			{do: "reuse", local: "4.sst", want: ""},
		}},
		{"claimed snapshot's file is the job's once unreferenced", []step{
			{do: "claim", uri: "/other-job/shared"},
			{do: "ref", uri: "/other-job/shared/e"},
			{do: "unref", uri: "/other-job/shared/e", orphans: []string{"/other-job/shared/e"}},
			{do: "ref", uri: "/other-job/sharedx/f"}, // beside the claimed directory, not in it
			{do: "unref", uri: "/other-job/sharedx/f", orphans: nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry()
			for i, s := range tt.steps {
				var orphans []string
				switch s.do {
				case "uploaded":
					r.Uploaded("backend", s.local, s.uri, 10)
				case "seed":
					r.Seed("backend", map[string]string{s.local: s.uri})
					continue
				case "claim":
					r.Claim(s.uri)
					continue
				case "reuse":
					if got := r.Reuse("backend", s.local); got != s.want {
						t.Fatalf("step %d: Reuse(%s) = %q, want %q", i, s.local, got, s.want)
					}
					continue
				case "unpin":
					orphans = r.Unpin([]string{s.uri})
				case "ref":
					r.Ref([]string{s.uri})
					continue
				case "unref":
					orphans = r.Unref([]string{s.uri})
				}
				if s.do == "unpin" || s.do == "unref" {
					if !reflect.DeepEqual(orphans, s.orphans) {
						t.Fatalf("step %d (%s %s): orphans %v, want %v", i, s.do, s.uri, orphans, s.orphans)
					}
				}
			}
		})
	}
}

func TestOperatorStateRoundTrip(t *testing.T) {
	tests := []operator.State{
		{"offset": {[]byte{1, 2, 3}}},
		{"pending": {[]byte("a"), []byte(""), []byte("ccc")}, "offset": {make([]byte, 300)}},
		{"empty": nil},
	}
	for _, st := range tests {
		data, names := EncodeOperatorState(st)
		got := operator.State{}
		if err := DecodeOperatorState(data, names, got); err != nil {
			t.Fatal(err)
		}
		for k, v := range st {
			if len(v) == 0 && len(got[k]) == 0 {
				continue
			}
			if len(got[k]) != len(v) {
				t.Fatalf("state %q: got %q, want %q", k, got[k], v)
			}
			for i := range v {
				if !bytes.Equal(got[k][i], v[i]) {
					t.Errorf("state %q entry %d: got %q, want %q", k, i, got[k][i], v[i])
				}
			}
		}
		var gotNames []string
		for _, n := range names {
			gotNames = append(gotNames, n.Name)
		}
		if !sort.StringsAreSorted(gotNames) {
			t.Errorf("names not sorted: %v", gotNames)
		}
	}
	// Corrupt offsets are an error, not a panic.
	_, names := EncodeOperatorState(operator.State{"x": {[]byte("abc")}})
	if err := DecodeOperatorState([]byte{0xff}, names, operator.State{}); err == nil {
		t.Fatal("corrupt stream decoded")
	}
	names[0].Offsets = []int64{99}
	if err := DecodeOperatorState([]byte{3, 'a', 'b', 'c'}, names, operator.State{}); err == nil {
		t.Fatal("offset past the end decoded")
	}
}

// State inline in _metadata carries its checksum in the handle's name: a
// flipped byte is an error naming the _metadata, not a different value.
func TestInlineStateVerified(t *testing.T) {
	data := []byte("operator state small enough to live inside _metadata")
	h := &snapshot.ByteStreamHandle{Name: ChecksummedName(data), Data: append([]byte(nil), data...)}
	got, err := ReadStreamVerified(context.Background(), storage.NewLocal(), h, "/ckpt/job/chk-3")
	if err != nil || string(got) != string(data) {
		t.Fatalf("intact: %q %v", got, err)
	}
	for i := range h.Data {
		h.Data[i] ^= 0x10
		_, err := ReadStreamVerified(context.Background(), storage.NewLocal(), h, "/ckpt/job/chk-3")
		if err == nil || !strings.Contains(err.Error(), "/ckpt/job/chk-3/_metadata (inline state") || !failure.IsDeterministic(err) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
		h.Data[i] ^= 0x10
	}
	// Handles written before checksums (a bare UUID name) read unverified.
	old := &snapshot.ByteStreamHandle{Name: NewHandleID(), Data: data}
	if _, err := ReadStreamVerified(context.Background(), storage.NewLocal(), old, "/x"); err != nil {
		t.Fatal(err)
	}
}
