package bridge

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// The source enumerator's unassigned splits are dealt to the subtasks,
// so none is lost; an enumerator that never made its splits, or state of
// another enumerator, is refused.
func TestEnumeratorSplits(t *testing.T) {
	split := func(index int32, next, step int64) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(index))
		b = binary.BigEndian.AppendUint64(b, uint64(next))
		return binary.BigEndian.AppendUint64(b, uint64(step))
	}
	enum := func(created bool, splits ...[]byte) []byte {
		var e []byte
		if created {
			e = append(e, 1)
		} else {
			e = append(e, 0)
		}
		e = binary.BigEndian.AppendUint32(e, uint32(len(splits)))
		for _, s := range splits {
			e = binary.BigEndian.AppendUint32(e, uint32(len(s)))
			e = append(e, s...)
		}
		b := binary.BigEndian.AppendUint32(nil, 1) // coordinator serde version
		b = binary.BigEndian.AppendUint32(b, 1)    // enumerator state version
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		return append(b, e...)
	}
	engineSplit := func(next, step int64) []byte {
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(next)), uint64(step))
	}
	// Three unassigned splits over two subtasks: 0 gets two, 1 one.
	c := &fromFlinkConverter{op: &snapshot.OperatorState{CoordinatorState: &snapshot.ByteStreamHandle{
		Data: enum(true, split(0, 30, 3), split(1, 31, 3), split(2, 32, 3))}}, res: &FromFlinkResult{}}
	out := make([]convertedSubtask, 2)
	if err := c.coordinator(out); err != nil {
		t.Fatal(err)
	}
	if got := out[0].opState[splitsName]; len(got) != 2 || !bytes.Equal(got[0], engineSplit(30, 3)) || !bytes.Equal(got[1], engineSplit(32, 3)) {
		t.Errorf("subtask 0 got %x", got)
	}
	if got := out[1].opState[splitsName]; len(got) != 1 || !bytes.Equal(got[0], engineSplit(31, 3)) {
		t.Errorf("subtask 1 got %x", got)
	}
	if c.res.Unassigned != 3 {
		t.Errorf("unassigned = %d", c.res.Unassigned)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"never made its splits", enum(false), "had not yet made its splits"},
		{"another coordinator version", append([]byte{0, 0, 0, 2}, enum(true)[4:]...), "source coordinator serde version 2"},
		{"another enumerator", enum(true, []byte{1, 2, 3}), "unassigned split 0: a split of 3 bytes"},
		{"truncated", enum(true, split(0, 1, 1))[:20], "runs past the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fromFlinkConverter{op: &snapshot.OperatorState{CoordinatorState: &snapshot.ByteStreamHandle{Data: tc.data}}, res: &FromFlinkResult{}}
			if err := c.coordinator(make([]convertedSubtask, 2)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// The converted savepoint goes beside the Flink savepoint, or beside the
// job's directory of a chk-N, named as Flink names savepoints.
func TestNewDir(t *testing.T) {
	for _, tc := range []struct{ in, wantPrefix string }{
		{"/sp/savepoint-d8e28d-e2370e5b5509", "/sp/savepoint-d8e28d-"},
		{"hdfs://nn:9000/chk/0123456789abcdef0123456789abcdef/chk-7", "hdfs://nn:9000/chk/savepoint-012345-"},
		{"/somewhere/my-snapshot", "/somewhere/savepoint-c4c4c4-"},
	} {
		got, err := NewDir(tc.in)
		if err != nil || !strings.HasPrefix(got, tc.wantPrefix) || !snapshot.IsSavepointDirName(filepath.Base(got)) || got == tc.in {
			t.Errorf("NewDir(%s) = %s, %v; want %s…", tc.in, got, err, tc.wantPrefix)
		}
	}
}
