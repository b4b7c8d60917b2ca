package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func decodeNamed(b []byte, known bool) error {
	size := int64(0)
	if known {
		size = int64(len(b))
	}
	_, err := NewDecoder(bytes.NewReader(b), DecodeOptions{Name: "hdfs://nn/ckpt/chk-7/_metadata", Size: size}).Decode()
	return err
}

func TestBadInput(t *testing.T) {
	v4 := readFixture(t, fixtureByName(t, "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"))
	v3 := readFixture(t, fixtureByName(t, "new-stateful-udf-migration-itcase-flink1.15-hashmap-checkpoint"))
	with := func(b []byte, off int, patch ...byte) []byte {
		c := append([]byte{}, b...)
		copy(c[off:], patch)
		return c
	}
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	tests := []struct {
		name   string
		in     []byte
		offset string // "byte offset N" expected in the message
		want   string
	}{
		{"empty", nil, "byte offset 0", "truncated"},
		{"wrong magic", with(v4, 0, 'P', 'K', 3, 4), "byte offset 0", "not a Flink _metadata file"},
		{"legacy v1", with(v4, 4, be32(1)...), "byte offset 4", "legacy (Flink ≤ 1.2)"},
		{"legacy v0", with(v4, 4, be32(0)...), "byte offset 4", "legacy"},
		{"unknown version", with(v4, 4, be32(8)...), "byte offset 4", "unknown version 8"},
		{"negative checkpoint id", with(v4, 8, 0xFF), "byte offset 8", "negative checkpoint id"},
		{"absurd master state count", with(v4, 16, be32(0x7FFFFFF0)...), "byte offset 16", "needs at least"},
		{"absurd operator count", with(v4, 20, be32(0x7FFFFFF0)...), "byte offset 20", "needs at least"},
		{"negative operator count", with(v4, 20, be32(0xFFFFFFFF)...), "byte offset 20", "negative count"},
		// Operator 0 starts at 24: id (16), parallelism, max parallelism,
		// then the coordinator-state tag at 48.
		{"unknown stream tag", with(v4, 48, 99), "byte offset 48", "tag 99"},
		{"coordinator not inline", with(v4, 48, 6), "byte offset 48", "must be inline"},
		{"absurd subtask count", with(v4, 49, be32(0x40000000)...), "byte offset 49", "needs at least"},
		{"bad operator flag", with(v4, 57, be32(7)...), "byte offset 57", "flag (0 or 1)"},
		{"unknown operator tag", with(v4, 61, 9), "byte offset 61", "not an operator state handle"},
		{"trailing garbage v3", append(append([]byte{}, v3...), 0), "byte offset " + itoa(len(v3)), "trailing bytes"},
		{"trailing garbage v4", append(append([]byte{}, v4...), 1, 2), "", "left after the object"},
		{"truncated v4", v4[:len(v4)/2], "", "truncated"},
		{"trailer missing", v4[:bytes.LastIndex(v4, []byte{0xAC, 0xED, 0, 5})], "", "truncated"},
	}
	for _, tt := range tests {
		for _, known := range []bool{true, false} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := decodeNamed(tt.in, known)
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Errorf("%s (size known=%v): allocated %d bytes for a %d-byte input", tt.name, known, grew, len(tt.in))
			}
			if err == nil {
				t.Errorf("%s (size known=%v): no error", tt.name, known)
				continue
			}
			msg := err.Error()
			want, offset := tt.want, tt.offset
			if !known && strings.Contains(tt.name, "absurd") {
				// Without a size the count cannot be judged up front; the
				// decoder fails later, where the data stops making sense.
				want, offset = "", ""
			}
			if !strings.Contains(msg, "hdfs://nn/ckpt/chk-7/_metadata") || !strings.Contains(msg, want) ||
				!strings.Contains(msg, offset) || !strings.Contains(msg, "expected") {
				t.Errorf("%s (size known=%v): %q lacks file, %q, %q or 'expected'", tt.name, known, msg, tt.offset, tt.want)
			}
			if !IsDecodeError(err) {
				t.Errorf("%s: not a *DecodeError: %T", tt.name, err)
			}
		}
	}
	if err := decodeNamed(with(v4, 4, be32(1)...), true); !errors.Is(err, ErrLegacyVersion) {
		t.Errorf("legacy error does not wrap ErrLegacyVersion: %v", err)
	}
}

// Every prefix of every fixture is an error (never a panic, never a
// success), with the file size known and unknown.
func TestEveryTruncationFails(t *testing.T) {
	for _, f := range fixtures(t) {
		b := readFixture(t, f)
		// Every prefix near both ends, ~1500 evenly spread in between.
		step := max(1, len(b)/1500)
		for n := 0; n < len(b); n++ {
			if n > 512 && n < len(b)-1024 && n%step != 0 {
				continue
			}
			if _, err := Unmarshal(b[:n]); err == nil {
				t.Fatalf("%s: prefix of %d/%d bytes decoded", f.name, n, len(b))
			}
			if n%97 == 0 {
				if err := decodeNamed(b[:n], false); err == nil {
					t.Fatalf("%s: prefix of %d bytes decoded (unknown size)", f.name, n)
				}
			}
		}
	}
}

// A huge length in a stream of unknown size must not allocate it up front.
func TestAbsurdLengthUnknownSizeDoesNotAllocate(t *testing.T) {
	m := &Metadata{Version: Version3, CheckpointID: 1, Operators: []*OperatorState{{
		ID: OperatorIDFromUID("x"), Parallelism: 1, MaxParallelism: 128,
		Subtasks: []*SubtaskState{{Index: 0, ManagedKeyedState: NewKeyGroupsHandle(KeyGroupRange{0, 1}, []int64{0},
			&ByteStreamHandle{Name: "b", Data: []byte{1, 2, 3}}, "id")}},
	}}}
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte{0, 1, 'b', 0, 0, 0, 3})
	if i < 0 {
		t.Fatal("inline handle not found")
	}
	binary.BigEndian.PutUint32(b[i+3:], 0x7FFFFFF0) // claims ~2 GB inline
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = NewDecoder(io.MultiReader(bytes.NewReader(b)), DecodeOptions{}).Decode()
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated") && !strings.Contains(err.Error(), "file ends") {
		t.Fatalf("error %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("decoding allocated %d bytes for a %d-byte input", grew, len(b))
	}
	if err := decodeNamed(b, true); err == nil || !strings.Contains(err.Error(), "needs at least") {
		t.Fatalf("known size: %v", err)
	}
}

func TestDeepNestingIsRefused(t *testing.T) {
	var k KeyedHandle = NewKeyGroupsHandle(KeyGroupRange{0, 0}, nil, nil, "")
	for i := 0; i < maxHandleDepth+2; i++ {
		k = &ChangelogHandle{Range: KeyGroupRange{0, 0}, NonMaterialized: []KeyedHandle{k}}
	}
	m := &Metadata{Version: Version3, Operators: []*OperatorState{{ID: OperatorIDFromUID("x"), Parallelism: 1, MaxParallelism: 128,
		Subtasks: []*SubtaskState{{ManagedKeyedState: k}}}}}
	if _, err := Marshal(m); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("encode: %v", err)
	}
}

func fixtureByName(t *testing.T, name string) fixture {
	for _, f := range fixtures(t) {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("fixture %s not found", name)
	return fixture{}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
