package state

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/storage"
)

// ckpt's engine state is named for what it is, not misread as a Flink
// proxy of a strange version.
func TestEngineStateRecognised(t *testing.T) {
	cases := []struct {
		name   string
		head   []byte
		engine bool
	}{
		{"a952d074-4cb7-4caa-afe2-b302e3ba2805", []byte("ckpt-pebble-v2"), true},
		{"da6cc18b-9852-4b11-8a85-aad14f802772.crc32c-f40ea55e", []byte{0x10, 0, 0, 0}, true},
		{"/sp/1f0e2d.kg", []byte{1, 5, 'c'}, true},
		{"/flink/chk-3/1f0e2d-6023-4e8a", []byte{0, 0, 0, 6, 0}, false},
		{"inline state 42d8682b", []byte{0, 0, 0, 5}, false},
	}
	for _, tc := range cases {
		err := engineState(tc.name, tc.head)
		if got := errors.Is(err, ErrEngineState); got != tc.engine {
			t.Errorf("%s: %v, want engine state %v", tc.name, err, tc.engine)
		}
	}
}

// engineCanonical writes a canonical engine stream for key groups 0..3
// (maxParallelism 4) holding count = n in the key groups of keys, with or
// without the schema header, and returns a snapshot referencing it.
func engineCanonical(t *testing.T, withSchema bool, keys map[string]int64) *snapshot.Metadata {
	t.Helper()
	dir := t.TempDir()
	var stream []byte
	var offsets []int64
	var crcs []uint32
	for kg := 0; kg < 4; kg++ {
		start := len(stream)
		offsets = append(offsets, int64(start))
		var names []string
		for k := range keys {
			if enginefmt.KeyGroupOf(k, 4) == kg {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		if withSchema && kg == 0 {
			stream = enginefmt.AppendField(stream, []byte(enginefmt.SchemaState))
			stream = enginefmt.AppendField(stream, []byte("count"))
			stream = enginefmt.AppendField(stream, enginefmt.Schema{Kind: enginefmt.KindValue, Key: enginefmt.TypeString, Value: enginefmt.TypeInt64}.Encode())
		}
		for _, k := range names {
			stream = enginefmt.AppendField(stream, []byte("count"))
			stream = enginefmt.AppendField(stream, []byte(k))
			stream = enginefmt.AppendField(stream, binary.BigEndian.AppendUint64(nil, uint64(keys[k])))
		}
		stream = append(stream, enginefmt.EndOfGroup)
		crcs = append(crcs, enginefmt.Checksum(stream[start:]))
	}
	file := enginefmt.AppendGroupSums(append([]byte(nil), stream...), crcs, int64(len(stream)))
	if err := os.WriteFile(filepath.Join(dir, "s.kg"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	op := &snapshot.OperatorState{UID: "counts", ID: snapshot.OperatorIDFromUID("counts"), Parallelism: 1, MaxParallelism: 4,
		Subtasks: []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(
			snapshot.KeyGroupRange{Start: 0, Count: 4}, offsets, snapshot.NewRelativeFileHandle("s.kg", int64(len(file))))}}}
	return &snapshot.Metadata{Version: 3, Operators: []*snapshot.OperatorState{op}, ExclusiveDir: dir}
}

// A canonical engine savepoint from before the engine recorded schemas
// reads with its state names, "types not recorded" and raw values; one
// with schemas decodes them; a flipped byte is an error naming the file
// and the key group's offset.
func TestEngineCanonicalSchemas(t *testing.T) {
	ctx := context.Background()
	keys := map[string]int64{"a": 1, "b": 22, "c": 333, "key-7": 7}
	for _, withSchema := range []bool{false, true} {
		m := engineCanonical(t, withSchema, keys)
		s := ReadSchemaWithStats(ctx, storage.Default(), m)
		if len(s) != 1 || s[0].Keyed == nil || len(s[0].Keyed.States) != 1 || len(s[0].Errors) > 0 {
			t.Fatalf("schema %+v", s)
		}
		st := s[0].Keyed.States[0]
		if st.Name != "count" || s[0].Stats[0].Entries != int64(len(keys)) {
			t.Fatalf("state %+v stats %+v", st, s[0].Stats)
		}
		if got := st.Kind(); withSchema != (got == "VALUE") || !withSchema && !strings.Contains(got, "types not recorded") {
			t.Fatalf("kind %q (schema recorded: %v)", got, withSchema)
		}
		got := map[string]Value{}
		err := ReadKeyed(ctx, storage.Default(), m, m.Operators[0], "", func(e Entry) error {
			if e.KeyGroup != enginefmt.KeyGroupOf(e.Key.(string), 4) {
				t.Errorf("%v in key group %d", e.Key, e.KeyGroup)
			}
			got[e.Key.(string)] = e.Value
			return nil
		})
		if err != nil || len(got) != len(keys) {
			t.Fatalf("%v %v", got, err)
		}
		for k, n := range keys {
			want := Value(n)
			if !withSchema {
				want = rawOf(engineType(""), binary.BigEndian.AppendUint64(nil, uint64(n)))
			}
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("%s = %#v, want %#v", k, got[k], want)
			}
		}
		// One key group only.
		kg, _ := KeyGroupIn(FormatEngineCanonical, "key-7", 4)
		n := 0
		if err := ReadKeyGroup(ctx, storage.Default(), m, m.Operators[0], "count", kg, func(e Entry) error { n++; return nil }); err != nil || n == 0 {
			t.Fatalf("key group %d: %d entries, %v", kg, n, err)
		}
	}
	m := engineCanonical(t, true, keys)
	path := filepath.Join(m.ExclusiveDir, "s.kg")
	raw, _ := os.ReadFile(path)
	h := m.Operators[0].Subtasks[0].ManagedKeyedState.(*snapshot.KeyGroupsHandle)
	raw[h.Offsets[1]+1] ^= 0x10
	os.WriteFile(path, raw, 0o644)
	err := ReadKeyed(ctx, storage.Default(), m, m.Operators[0], "", func(Entry) error { return nil })
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "byte offset") {
		t.Fatalf("corrupt key group: %v", err)
	}
}
