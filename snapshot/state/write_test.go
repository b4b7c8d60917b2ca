package state

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// The serializer snapshots the writer emits read back as the types they
// describe, with Flink's class names.
func TestWriteSnapshotsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		t    *Type
		kind Kind
		name string
	}{
		{StringType(), KindString, "String"},
		{LongType(), KindLong, "Long"},
		{BytesType(), KindBytes, "byte[]"},
		{VoidNamespaceType(), KindVoidNamespace, "VoidNamespace"},
		{TimerType(StringType(), VoidNamespaceType()), KindTimer, ""},
	} {
		b, err := AppendSnapshot(nil, tc.t)
		if err != nil {
			t.Fatal(err)
		}
		d := newDecoder(b, "test", 0)
		got, err := d.readSnapshot("x")
		if err != nil {
			t.Fatalf("%s: %v", tc.t.Snapshot, err)
		}
		if d.left() != 0 || got.Kind != tc.kind || got.Snapshot != tc.t.Snapshot || got.Version != 3 {
			t.Errorf("%s: read back %+v with %d bytes left", tc.t.Snapshot, got, d.left())
		}
		if tc.kind == KindTimer && (got.Key.Kind != KindString || got.Namespace.Kind != KindVoidNamespace) {
			t.Errorf("timer: key %v namespace %v", got.Key, got.Namespace)
		}
	}
	// The bytes of a simple snapshot as the 1.20 files hold them
	// (flink-state-format.md §3): utf class name, version 3, no payload.
	b, _ := AppendSnapshot(nil, LongType())
	want := "00000002" + "0050" + hex.EncodeToString([]byte(ClassLongSnapshot)) + "00000003"
	if hex.EncodeToString(b) != want {
		t.Errorf("Long snapshot:\n got %x\nwant %s", b, want)
	}
	if _, err := AppendSnapshot(nil, &Type{Kind: KindKryo, Snapshot: "x.KryoSerializerSnapshot", Version: 2}); err == nil {
		t.Error("a Kryo snapshot was written")
	}
}

// StringValue bytes of the format doc's example (§8.1).
func TestAppendStringValue(t *testing.T) {
	if got := hex.EncodeToString(AppendStringValue(nil, "aé€😀")); got != "0661e901ac41bdb00380bc03" {
		t.Errorf("got %s", got)
	}
	long := AppendStringValue(nil, strings.Repeat("x", 200))
	if long[0] != 0xC9 || long[1] != 0x01 {
		t.Errorf("200 chars: %x", long[:2])
	}
	for _, s := range []string{"", "key-7", "naïve 😀"} {
		d := newDecoder(AppendStringValue(nil, s), "t", 0)
		got, ok, err := d.stringValue("s")
		if err != nil || !ok || got != s || d.left() != 0 {
			t.Errorf("%q: read back %q %v %v", s, got, ok, err)
		}
	}
}

// A keyed stream of value states and timers, at both key-group prefix
// widths, reads back entry for entry through the reader's proxy and
// unified-format decoder.
func TestEncodeKeyedStreamRoundTrip(t *testing.T) {
	for _, maxP := range []int{128, 4096} {
		t.Run(fmt.Sprint(maxP), func(t *testing.T) {
			states := []*Meta{
				NewValueStateMeta("count", LongType()),
				NewValueStateMeta("windows", BytesType()),
				NewTimersMeta("_timer_state/event_user-timers", StringType()),
			}
			r := snapshot.KeyGroupRangeFor(int32(maxP), 3, 1)
			type want struct {
				state string
				kg    int
				key   string
				value Value
			}
			var wants []want
			groups := map[int][][]KV{}
			for i := range 300 {
				key := fmt.Sprintf("key-%d", i)
				kg, err := KeyGroup(key, maxP)
				if err != nil {
					t.Fatal(err)
				}
				if !r.Contains(int32(kg)) {
					continue
				}
				if groups[kg] == nil {
					groups[kg] = make([][]KV, len(states))
				}
				ck := AppendStringKeyVoidNamespace(nil, kg, maxP, key)
				groups[kg][0] = append(groups[kg][0], KV{ck, AppendLongValue(nil, int64(i))})
				wants = append(wants, want{"count", kg, key, int64(i)})
				if i%3 == 0 {
					w := []byte{0, 0, 0, 0, 0, 0, 3, 232, 0, 0, 0, 0, 0, 0, 0, byte(i)}
					groups[kg][1] = append(groups[kg][1], KV{ck, AppendBytesValue(nil, w)})
					wants = append(wants, want{"windows", kg, key, w})
					groups[kg][2] = append(groups[kg][2], KV{AppendStringTimer(nil, kg, maxP, 1999, key), nil})
					wants = append(wants, want{"_timer_state/event_user-timers", kg, key, Timer{Timestamp: 1999, Key: key, Namespace: nil}})
				}
			}
			data, offsets, err := EncodeKeyedStream(StringType(), states, r, groups)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ReadKeyedProxy(data, "test")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.States) != 3 || p.Key.Kind != KindString || p.States[2].Kind() != "TIMERS" || p.States[0].Kind() != "VALUE" {
				t.Fatalf("proxy read back as %+v", p)
			}
			var got []want
			sorted := append([]int64(nil), offsets...)
			sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
			for i, o := range offsets {
				if o == 0 {
					if groups[int(r.Start)+i] != nil {
						t.Fatalf("key group %d has entries but offset 0", int(r.Start)+i)
					}
					continue
				}
				if i == 0 && o != p.End {
					t.Errorf("first key group at %d, the proxy ends at %d", o, p.End)
				}
				end := int64(len(data))
				if j := sort.Search(len(sorted), func(j int) bool { return sorted[j] > o }); j < len(sorted) {
					end = sorted[j]
				}
				err := ReadUnified(p, maxP, int(r.Start)+i, data[o:end], "test", o, func(e Entry) error {
					if e.KeyGroup != int(r.Start)+i {
						t.Errorf("entry of key group %d in key group %d's region", e.KeyGroup, int(r.Start)+i)
					}
					got = append(got, want{e.State, e.KeyGroup, e.Key.(string), e.Value})
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			key := func(w want) string { return fmt.Sprint(w.state, w.kg, w.key) }
			sort.Slice(got, func(i, j int) bool { return key(got[i]) < key(got[j]) })
			sort.Slice(wants, func(i, j int) bool { return key(wants[i]) < key(wants[j]) })
			if len(wants) < 50 || !reflect.DeepEqual(got, wants) {
				t.Errorf("read back %d entries, wrote %d (first %v vs %v)", len(got), len(wants), got[:min(1, len(got))], wants[:1])
			}
		})
	}
}

func TestEncodeKeyedStreamRefuses(t *testing.T) {
	r := snapshot.KeyGroupRange{Start: 0, Count: 4}
	states := []*Meta{NewValueStateMeta("count", LongType())}
	if _, _, err := EncodeKeyedStream(StringType(), states, r, map[int][][]KV{9: {{}}}); err == nil {
		t.Error("a key group outside the range was written")
	}
	if _, _, err := EncodeKeyedStream(StringType(), states, r, map[int][][]KV{1: {{{Key: []byte{0x81}}}}}); err == nil {
		t.Error("a key whose prefix uses the flag bit was written")
	}
}

// An operator stream of a split list and a union list of byte[] reads back
// through the reader's operator proxy and element decoder; a FLIP-27 reader
// state element is recognised as a split.
func TestEncodeOperatorStreamRoundTrip(t *testing.T) {
	split := AppendSimpleVersioned(nil, 1, []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 2})
	lists := []OperatorList{
		{Name: SourceReaderState, Mode: snapshot.SplitDistribute, Elements: [][]byte{split, split}},
		{Name: "pending", Mode: snapshot.Union, Elements: [][]byte{[]byte(`{"chk":3}`)}},
		{Name: "empty", Mode: snapshot.Union},
	}
	data, named, err := EncodeOperatorStream(lists)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadOperatorProxy(data, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.States) != 3 || len(p.Broadcast) != 0 || p.Version != 6 || p.End != named[0].Offsets[0] {
		t.Fatalf("proxy read back as %+v", p)
	}
	for i, l := range lists {
		m := p.States[i]
		if m.Name != l.Name || m.Kind() != l.Mode.String() || named[i].Mode != l.Mode {
			t.Errorf("state %d: %s %s, want %s %s", i, m.Name, m.Kind(), l.Name, l.Mode)
		}
		vs, err := ReadOperatorState(p, m, data, named[i].Offsets, "test")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != len(l.Elements) {
			t.Fatalf("%s: %d elements, wrote %d", l.Name, len(vs), len(l.Elements))
		}
		for j, v := range vs {
			if !bytes.Equal(v.([]byte), l.Elements[j]) {
				t.Errorf("%s[%d] = %x, wrote %x", l.Name, j, v, l.Elements[j])
			}
		}
	}
	if v, ok := Known(SourceReaderState, split); !ok || v.(SourceSplit).SerializerVersion != 1 {
		t.Errorf("reader state element read back as %v %v", v, ok)
	}
}

func TestSourceCoordinatorState(t *testing.T) {
	got := hex.EncodeToString(SourceCoordinatorState(1, []byte{1, 0, 0, 0, 0}))
	if got != "00000001"+"00000001"+"00000005"+"0100000000" {
		t.Errorf("got %s", got)
	}
}

// runnerSavepoint reads a real Flink 2.3 canonical savepoint of ckpt's
// runner (testdata/runner-flink-2.3: stop-with-savepoint of
// jobs/exactly-once-counts.yaml and jobs/windowed-counts.yaml through
// ckpt submit; every state inline in _metadata).
func runnerSavepoint(t *testing.T, name string) *snapshot.Metadata {
	t.Helper()
	m, err := snapshot.Read(context.Background(), storage.NewLocal(), filepath.Join("testdata", "runner-flink-2.3", name+".metadata"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// What the writer writes is byte for byte what Flink 2.3 wrote for the
// runner's job: the keyed proxies (String key, a Long or byte[] value
// state, both timer queues), every key group's region re-encoded from its
// decoded entries, the operator streams of the source's reader splits and
// the sink's union state, and the source coordinator's state.
func TestWriteMatchesFlink(t *testing.T) {
	for _, tc := range []struct {
		file, keyedUID, value string
		valueType             *Type
		lists                 map[string]string // uid → state
	}{
		{"exactly-once-counts", "count-per-key", "count", LongType(), map[string]string{"source": SourceReaderState, "sink": "pending"}},
		{"windowed-counts", "per-second", "windows", BytesType(), map[string]string{"events": SourceReaderState}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m := runnerSavepoint(t, tc.file)
			op := m.Operator(snapshot.OperatorIDFromUID(tc.keyedUID))
			states := []*Meta{NewValueStateMeta(tc.value, tc.valueType),
				NewTimersMeta("_timer_state/processing_user-timers", StringType()), NewTimersMeta("_timer_state/event_user-timers", StringType())}
			regions := 0
			for _, st := range op.Subtasks {
				h := st.ManagedKeyedState.(*snapshot.KeyGroupsHandle)
				data := h.Delegate.(*snapshot.ByteStreamHandle).Data
				p, err := ReadKeyedProxy(data, "flink")
				if err != nil {
					t.Fatal(err)
				}
				mine, err := AppendKeyedProxy(nil, StringType(), states)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(mine, data[:p.End]) {
					t.Fatalf("keyed proxy:\n ckpt  %x\n flink %x", mine, data[:p.End])
				}
				sorted := append([]int64(nil), h.Offsets...)
				sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
				for i, o := range h.Offsets {
					if o == 0 {
						continue
					}
					end := int64(len(data))
					if j := sort.Search(len(sorted), func(j int) bool { return sorted[j] > o }); j < len(sorted) {
						end = sorted[j]
					}
					kg := int(h.Range.Start) + i
					groups := make([][]KV, len(states))
					err := ReadUnified(p, int(op.MaxParallelism), kg, data[o:end], "flink", o, func(e Entry) error {
						id := 0
						for j, s := range states {
							if s.Name == e.State {
								id = j
							}
						}
						var kv KV
						switch id {
						case 0:
							kv.Key = AppendStringKeyVoidNamespace(nil, kg, int(op.MaxParallelism), e.Key.(string))
							if v, ok := e.Value.(int64); ok {
								kv.Value = AppendLongValue(nil, v)
							} else {
								kv.Value = AppendBytesValue(nil, e.Value.([]byte))
							}
						default:
							kv.Key = AppendStringTimer(nil, kg, int(op.MaxParallelism), e.Value.(Timer).Timestamp, e.Key.(string))
						}
						groups[id] = append(groups[id], kv)
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					mine, ok, err := AppendUnifiedKeyGroup(nil, groups)
					if err != nil || !ok || !bytes.Equal(mine, data[o:end]) {
						t.Fatalf("key group %d:\n ckpt  %x\n flink %x (%v)", kg, mine, data[o:end], err)
					}
					regions++
				}
			}
			if regions == 0 {
				t.Fatal("no key group compared")
			}
			for uid, name := range tc.lists {
				op := m.Operator(snapshot.OperatorIDFromUID(uid))
				for _, st := range op.Subtasks {
					h := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle)
					data := h.Delegate.(*snapshot.ByteStreamHandle).Data
					p, err := ReadOperatorProxy(data, "flink")
					if err != nil {
						t.Fatal(err)
					}
					vs, err := ReadOperatorState(p, p.States[0], data, h.States[0].Offsets, "flink")
					if err != nil {
						t.Fatal(err)
					}
					l := OperatorList{Name: name, Mode: h.States[0].Mode}
					for _, v := range vs {
						l.Elements = append(l.Elements, v.([]byte))
					}
					mine, named, err := EncodeOperatorStream([]OperatorList{l})
					if err != nil || !bytes.Equal(mine, data) || fmt.Sprint(named) != fmt.Sprint(h.States) {
						t.Fatalf("%s operator stream:\n ckpt  %x %v\n flink %x %v", uid, mine, named, data, h.States)
					}
				}
				if name == SourceReaderState {
					if got := op.CoordinatorState.Data; !bytes.Equal(got, SourceCoordinatorState(1, []byte{1, 0, 0, 0, 0})) {
						t.Errorf("coordinator state: Flink wrote %x", got)
					}
				}
			}
		})
	}
}
