package snapshot

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// kitchenSink builds a Metadata holding every handle kind, master states,
// finished operators and subtasks, coordinator state and channel state —
// what the fixtures do not cover — restricted to what version v can hold.
func kitchenSink(v int) *Metadata {
	rel := func(name string, size int64) *RelativeFileHandle { return NewRelativeFileHandle(name, size) }
	abs := func(p string, size int64) *FileHandle { return NewFileHandle(p, size) }
	inc := NewIncrementalHandle(7, "2f1e3c1a-6a34-4b4c-9a55-0d0f7f0e8f11", KeyGroupRange{0, 64}, 4096,
		rel("meta-0", 300),
		[]NamedHandle{{"000010.sst", abs("hdfs://nn:9000/ckpt/job/shared/a1b2", 2048)}, {"000011.sst", abs("file:/tmp/ckpt/job/shared/c3d4", 1024)}},
		[]NamedHandle{{"MANIFEST-000004", rel("m-1", 200)}, {"OPTIONS-000009", &ByteStreamHandle{Name: "opts", Data: []byte("opt")}}, {"CURRENT", rel("cur", 16)}},
		"handle-inc-1")
	incV1 := &IncrementalHandle{V1: true, CheckpointID: 3, BackendID: "not-a-uuid (pre FLINK-6964)", Range: KeyGroupRange{64, 64},
		Meta: rel("meta-1", 10), Shared: []NamedHandle{{"000001.sst", abs("s3://b/shared/x", 5)}}}
	kg12 := NewKeyGroupsHandle(KeyGroupRange{0, 4}, []int64{0, 10, 20, 30}, rel("kg-data", 40), "kg-id")
	kg7 := NewSavepointKeyGroupsHandle(KeyGroupRange{4, 2}, []int64{0, 5}, rel("sp-data", 10))
	kg3 := &KeyGroupsHandle{Variant: TagKeyGroups, Range: KeyGroupRange{6, 1}, Offsets: []int64{0},
		Delegate: &ByteStreamHandle{Name: "legacy", Data: []byte{1, 2, 3}}}
	// A legacy key-groups handle used as a plain stream (tag 3 in a stream slot).
	kgStream := &KeyGroupsHandle{Variant: TagKeyGroups, Range: KeyGroupRange{0, 0}, Offsets: []int64{},
		Delegate: abs("file:/x/y", 1)}
	mem := &InMemoryChangelogHandle{Range: KeyGroupRange{0, 128}, FromSeq: 1, ToSeq: 9,
		Changes: []StateChange{{KeyGroup: -1, Data: []byte("meta")}, {KeyGroup: 5, Data: []byte{0, 1}}}, HandleID: "mem-1"}
	file13 := &ChangelogFileHandle{Range: KeyGroupRange{0, 128}, Parts: []OffsetHandle{{Offset: 12, Handle: abs("file:/cl/1", 99)}},
		Size: 99, CheckpointedSize: 50, HandleID: "cl-1", StorageID: "filesystem"}
	file10 := &ChangelogFileHandle{V1: true, Range: KeyGroupRange{0, 128}, Parts: []OffsetHandle{{Offset: 0, Handle: rel("cl-2", 3)}},
		Size: 3, CheckpointedSize: 3, HandleID: "cl-2"}
	cl14 := &ChangelogHandle{Range: KeyGroupRange{0, 128}, CheckpointedSize: 77,
		Materialized: []KeyedHandle{inc, nil}, NonMaterialized: []KeyedHandle{mem, file13},
		MaterializationID: 4, CheckpointID: 8, HandleID: "cl14"}
	cl8 := &ChangelogHandle{V1: true, Range: KeyGroupRange{0, 128}, Materialized: []KeyedHandle{kg12},
		NonMaterialized: []KeyedHandle{file10}, MaterializationID: 2, HandleID: "cl8"}
	ops := NewOperatorStreamHandle(rel("op-data", 64),
		NamedOperatorState{Name: "source-state", Mode: SplitDistribute, Offsets: []int64{0, 8}},
		NamedOperatorState{Name: "union", Mode: Union, Offsets: []int64{16}},
		NamedOperatorState{Name: "bcast", Mode: Broadcast, Offsets: nil})
	fm := &OperatorStreamHandle{States: []NamedOperatorState{{Name: "s", Mode: SplitDistribute, Offsets: []int64{0}}},
		Delegate:    &SegmentFileHandle{StartPos: 100, Size: 20, Scope: ScopeShared, PhysicalPath: "file:/m/phys-1", LogicalFileID: "lf-1"},
		FileMerging: &FileMergingDirs{TaskOwnedDir: "file:/m/taskowned", SharedDir: "file:/m/shared"}}
	fmEmpty := &OperatorStreamHandle{Delegate: &EmptySegmentFileHandle{},
		FileMerging: &FileMergingDirs{TaskOwnedDir: "file:/m/taskowned", SharedDir: "file:/m/shared", Empty: true}}

	m := &Metadata{Version: v, CheckpointID: 42,
		MasterStates: []MasterState{{Version: 1, Name: "hook-a", Payload: []byte("payload")}, {Version: 2, Name: "hook-\u00e9\U0001F600\x00", Payload: nil}}}
	op1 := &OperatorState{ID: OperatorIDFromUID("map"), Parallelism: 3, MaxParallelism: 128}
	op1.Subtasks = []*SubtaskState{
		{Index: 0, ManagedOperatorState: ops, RawOperatorState: fm, ManagedKeyedState: inc, RawKeyedState: kg3},
		{Index: 1, ManagedKeyedState: kg12, RawKeyedState: kg7, RawOperatorState: fmEmpty},
		{Index: 2, ManagedKeyedState: incV1},
	}
	op2 := &OperatorState{ID: OperatorIDFromUID("changelog"), Parallelism: 2, MaxParallelism: 128}
	op2.Subtasks = []*SubtaskState{
		{Index: 0, ManagedKeyedState: cl14, ManagedOperatorState: NewOperatorStreamHandle(kgStream)},
		{Index: 1, ManagedKeyedState: cl8, RawKeyedState: file13},
	}
	m.Operators = []*OperatorState{op1, op2}
	if v == Version2 {
		op1.LegacyChainLength, op2.LegacyChainLength = 1, 1
		for _, op := range m.Operators {
			for _, st := range op.Subtasks {
				st.LegacyDuration = -1
			}
		}
		return m
	}
	op1.CoordinatorState = &ByteStreamHandle{Name: "coord", Data: []byte("enumerator")}
	op1.Parallelism = 4 // subtask 3 finished
	op1.Subtasks[0].InputChannels = []*ChannelHandle{{Kind: InputChannel, Subtask: 0, Gate: 0, Channel: 1, Offsets: []int64{0, 32}, Size: 64, Delegate: rel("ch-in", 64)}}
	op1.Subtasks[0].OutputChannels = []*ChannelHandle{{Kind: ResultSubpartition, Subtask: 0, Gate: 0, Channel: 2, Offsets: []int64{}, Size: 0, Delegate: &ByteStreamHandle{Name: "empty", Data: []byte{}}}}
	op1.Subtasks = append(op1.Subtasks, &SubtaskState{Index: 3, Finished: true})
	m.Operators = append(m.Operators, &OperatorState{ID: OperatorIDFromUID("done"), Parallelism: 1, MaxParallelism: 128, FullyFinished: true})
	if v >= Version4 {
		m.SetProperties(SavepointProperties(FormatNative, ActionSuspend))
	}
	if v >= Version5 {
		op1.UID, op1.Name = "map", "Map \u2192 Filter"
		op2.UID = "changelog"
		m.Operators[2].UID, m.Operators[2].Name = "done", "Done"
	}
	if v >= Version6 {
		op1.Subtasks[1].InputChannels = []*ChannelHandle{{Kind: MergedInputChannel, Subtask: 1, Size: 10, Delegate: rel("merged-in", 10), MergedOffsets: []byte{9, 8, 7}}}
		op1.Subtasks[1].OutputChannels = []*ChannelHandle{{Kind: MergedResultSubpartition, Subtask: 1, Size: 0, Delegate: &EmptySegmentFileHandle{}, MergedOffsets: []byte{}}}
	}
	if v >= Version7 {
		op1.Subtasks[0].HasRefCheckpointID, op1.Subtasks[0].RefCheckpointID = true, 40
	}
	return m
}

// Every version encodes the kitchen sink, decodes it back to an equal
// value, and re-encodes the same bytes; the bytes are pinned by golden
// files so an accidental format change shows up in review.
func TestKitchenSinkAllVersions(t *testing.T) {
	for v := VersionMin; v <= VersionMax; v++ {
		t.Run("v"+string(rune('0'+v)), func(t *testing.T) {
			m := kitchenSink(v)
			b, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			normalize(m)
			normalize(back)
			if !reflect.DeepEqual(m, back) {
				t.Fatalf("decoded value differs from the encoded one")
			}
			again, err := Marshal(back)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("re-encode: %v, equal=%v", err, bytes.Equal(again, b))
			}
			golden := filepath.Join("testdata", "kitchen-sink-v"+string(rune('0'+v))+".metadata")
			if *update {
				if err := os.WriteFile(golden, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./snapshot -run KitchenSink -update)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("encoding differs from %s", golden)
			}
		})
	}
}

// normalize makes empty and nil slices compare equal.
func normalize(m *Metadata) {
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			for _, c := range append(append([]*ChannelHandle{}, st.InputChannels...), st.OutputChannels...) {
				if len(c.Offsets) == 0 {
					c.Offsets = nil
				}
				if len(c.MergedOffsets) == 0 {
					c.MergedOffsets = nil
				}
			}
			normHandles(st.ManagedOperatorState, st.RawOperatorState, st.ManagedKeyedState, st.RawKeyedState)
		}
		if op.Subtasks != nil && len(op.Subtasks) == 0 {
			op.Subtasks = nil
		}
	}
	for i := range m.MasterStates {
		if len(m.MasterStates[i].Payload) == 0 {
			m.MasterStates[i].Payload = nil
		}
	}
}

func normHandles(hs ...Handle) {
	for _, h := range hs {
		switch h := h.(type) {
		case *OperatorStreamHandle:
			if len(h.States) == 0 {
				h.States = nil
			}
			for i := range h.States {
				if len(h.States[i].Offsets) == 0 {
					h.States[i].Offsets = nil
				}
			}
			normHandles(h.Delegate)
		case *KeyGroupsHandle:
			if len(h.Offsets) == 0 {
				h.Offsets = nil
			}
			normHandles(h.Delegate)
		case *ChangelogHandle:
			for _, k := range append(append([]KeyedHandle{}, h.Materialized...), h.NonMaterialized...) {
				if k != nil {
					normHandles(k)
				}
			}
		case *IncrementalHandle:
			if len(h.Shared) == 0 {
				h.Shared = nil
			}
			if len(h.Private) == 0 {
				h.Private = nil
			}
		}
	}
}

func TestEncodeRejectsWhatTheVersionCannotHold(t *testing.T) {
	tests := []struct {
		name string
		v    int
		edit func(m *Metadata)
		want string
	}{
		{"uid in v4", Version4, func(m *Metadata) { m.Operators[0].UID = "x" }, "cannot store the operator name/uid"},
		{"merged channel in v5", Version5, func(m *Metadata) {
			m.Operators[0].Subtasks[0].InputChannels[0].Kind = MergedInputChannel
		}, "merged channel"},
		{"ref id in v6", Version6, func(m *Metadata) { m.Operators[0].Subtasks[0].HasRefCheckpointID = true }, "refCheckpointId"},
		{"no trailer in v4", Version4, func(m *Metadata) { m.Trailer = nil }, "trailer"},
		{"trailer in v3", Version3, func(m *Metadata) { m.Trailer = []byte{1} }, "no trailer"},
		{"finished in v2", Version2, func(m *Metadata) { m.Operators[0].Subtasks[0].Finished = true }, "finished"},
		{"offsets mismatch", Version6, func(m *Metadata) {
			m.Operators[0].Subtasks[1].ManagedKeyedState.(*KeyGroupsHandle).Offsets = []int64{1}
		}, "offsets"},
		{"typed nil", Version6, func(m *Metadata) { m.Operators[0].Subtasks[0].ManagedKeyedState = (*IncrementalHandle)(nil) }, "nil"},
		{"bad utf8", Version6, func(m *Metadata) { m.Operators[0].UID = "\xff" }, "UTF-8"},
		{"version 1", Version6, func(m *Metadata) { m.Version = 1 }, "cannot write format version 1"},
		{"output kind in input list", Version6, func(m *Metadata) {
			m.Operators[0].Subtasks[0].InputChannels[0].Kind = ResultSubpartition
		}, "input list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := kitchenSink(tt.v)
			tt.edit(m)
			_, err := Marshal(m)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMUTF8(t *testing.T) {
	tests := []struct {
		name string
		java []byte // what writeUTF produces (without the length)
		go_  string
	}{
		{"ascii", []byte("abc"), "abc"},
		{"nul", []byte{'a', 0xC0, 0x80, 'b'}, "a\x00b"},
		{"two-byte", []byte{0xC3, 0xA9}, "\u00e9"},
		{"three-byte", []byte{0xE2, 0x86, 0x92}, "\u2192"},
		{"supplementary as surrogate pair", []byte{0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}, "\U0001F600"},
		{"lone high surrogate", []byte{0xED, 0xA0, 0xBD, 'x'}, "\xed\xa0\xbdx"},
		{"lone low surrogate", []byte{0xED, 0xB8, 0x80}, "\xed\xb8\x80"},
	}
	for _, tt := range tests {
		got, ok := decodeMUTF8(tt.java)
		if !ok || got != tt.go_ {
			t.Errorf("%s: decode = %q, %v; want %q", tt.name, got, ok, tt.go_)
		}
		enc, ok := appendMUTF8(nil, tt.go_)
		if !ok || !bytes.Equal(enc, tt.java) {
			t.Errorf("%s: encode = %x, %v; want %x", tt.name, enc, ok, tt.java)
		}
	}
	for name, bad := range map[string][]byte{
		"raw nul":            {0},
		"overlong ascii":     {0xC1, 0x81},
		"overlong 3-byte":    {0xE0, 0x80, 0x80},
		"4-byte utf8":        {0xF0, 0x9F, 0x98, 0x80},
		"missing cont":       {0xC3},
		"bad cont":           {0xE2, 0x41, 0x41},
		"stray continuation": {0x80},
	} {
		if _, ok := decodeMUTF8(bad); ok {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, ok := appendMUTF8(nil, "\xff"); ok {
		t.Error("invalid Go string encoded")
	}
}

// The reader's fast path (word-at-a-time ASCII check, chunked strings,
// interning) gives the same strings as the reference decoder.
func TestStringTableMatchesDecoder(t *testing.T) {
	var st stringTable
	inputs := [][]byte{nil, []byte("a"), []byte("000010.sst"), []byte("0123456789abcdef0123456789abcdef-long")}
	for pos := 0; pos < 20; pos++ {
		b := []byte("abcdefghijklmnopqrst")
		nul := append(append(append([]byte{}, b[:pos]...), 0xC0, 0x80), b[pos:]...)
		high := append(append(append([]byte{}, b[:pos]...), 0xC3, 0xA9), b[pos:]...)
		raw0 := append(append(append([]byte{}, b[:pos]...), 0x00), b[pos:]...)
		inputs = append(inputs, nul, high, raw0)
	}
	for round := 0; round < 2; round++ { // the second round hits the intern table
		for _, in := range inputs {
			want, wantOK := decodeMUTF8(in)
			got, ok := st.decode(in)
			if ok != wantOK || got != want {
				t.Fatalf("decode(%q) = %q %v, want %q %v", in, got, ok, want, wantOK)
			}
		}
	}
}
