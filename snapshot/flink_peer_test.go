package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// Real Flink's own loader (Checkpoints.loadCheckpointMetadata, in a JVM of
// the given version) reads what ckpt's encoder writes — every version that
// Flink line can read, with every handle kind — and sees the same ids,
// parallelism, uids and sizes ckpt computes.
func TestFlinkLoaderReadsOurEncoding(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	cases := []struct {
		flink    string
		versions []int
	}{
		{peers.FlinkVersion2, []int{Version2, Version3, Version4, Version5, Version6}},
		{peers.FlinkVersion120, []int{Version2, Version3, Version4}},
	}
	for _, c := range cases {
		t.Run("flink-"+c.flink, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: c.flink})
			for _, v := range c.versions {
				m := kitchenSink(v)
				dir := filepath.Join(t.TempDir(), "savepoint-a1b2c3-00000000000"+string(rune('0'+v)))
				os.MkdirAll(dir, 0o755)
				if err := Write(context.Background(), storage.NewLocal(), filepath.Join(dir, MetadataFileName), m); err != nil {
					t.Fatal(err)
				}
				got, err := p.LoadMetadata(dir, 1)
				if err != nil {
					t.Fatalf("v%d: Flink %s cannot load ckpt's encoding: %v", v, c.flink, err)
				}
				compareWithFlink(t, m, got)
			}
			// The kitchen sink converted from the version the other line
			// writes (V6 ↔ V4, merged channel handles aside) loads too; and
			// 1.20 refuses V6 as it is, which is why the conversion exists.
			from, to := Version4, Version6
			if c.flink == peers.FlinkVersion120 {
				from, to = Version6, Version4
			}
			m := kitchenSink(from)
			for _, op := range m.Operators {
				for _, st := range op.Subtasks {
					st.InputChannels = slices.DeleteFunc(st.InputChannels, func(h *ChannelHandle) bool { return h.Kind.Merged() })
					st.OutputChannels = slices.DeleteFunc(st.OutputChannels, func(h *ChannelHandle) bool { return h.Kind.Merged() })
				}
			}
			if c.flink == peers.FlinkVersion120 {
				dir := filepath.Join(t.TempDir(), "savepoint-a1b2c3-v6asitis0000")
				os.MkdirAll(dir, 0o755)
				if err := Write(context.Background(), storage.NewLocal(), filepath.Join(dir, MetadataFileName), m); err != nil {
					t.Fatal(err)
				}
				if _, err := p.LoadMetadata(dir, 1); err == nil || !strings.Contains(err.Error(), "Unrecognized checkpoint version number: 6") {
					t.Fatalf("Flink 1.20 loading V6: error %v, want it refused as an unrecognized version", err)
				}
			}
			if _, err := m.ConvertTo(to); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "savepoint-a1b2c3-converted000")
			os.MkdirAll(dir, 0o755)
			if err := Write(context.Background(), storage.NewLocal(), filepath.Join(dir, MetadataFileName), m); err != nil {
				t.Fatal(err)
			}
			got, err := p.LoadMetadata(dir, 1)
			if err != nil {
				t.Fatalf("V%d converted to V%d: Flink %s cannot load it: %v", from, to, c.flink, err)
			}
			compareWithFlink(t, m, got)
		})
	}
}

// Every real fixture: Flink's loader and ckpt's decoder agree on the
// operators and their sizes.
func TestFixturesAgreeWithFlinkLoader(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	p := peers.StartFlink(t, peers.FlinkOptions{Version: peers.FlinkVersion2})
	for _, f := range fixtures(t) {
		m, err := Read(context.Background(), storage.NewLocal(), f.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.LoadMetadata(filepath.Dir(f.path), 1)
		if err != nil {
			t.Fatalf("%s: Flink's loader: %v", f.name, err)
		}
		compareWithFlink(t, m, got)
	}
}

func compareWithFlink(t *testing.T, m *Metadata, got *peers.FlinkMetadata) {
	t.Helper()
	where := filepath.Base(got.Path)
	if got.CheckpointID != m.CheckpointID || got.MasterStates != len(m.MasterStates) || len(got.Operators) != len(m.Operators) {
		t.Errorf("%s v%d: Flink sees checkpoint %d, %d master states, %d operators; ckpt %d, %d, %d", where, m.Version,
			got.CheckpointID, got.MasterStates, len(got.Operators), m.CheckpointID, len(m.MasterStates), len(m.Operators))
		return
	}
	if p, ok, _ := m.Properties(); ok && got.Savepoint != (p.Kind == KindSavepoint) {
		t.Errorf("%s: Flink says savepoint=%v, trailer says %v", where, got.Savepoint, p.Kind)
	}
	byID := map[string]peers.FlinkOperatorState{}
	for _, o := range got.Operators {
		byID[o.ID] = o
	}
	for _, op := range m.Operators {
		fo, ok := byID[op.ID.String()]
		if !ok {
			t.Errorf("%s v%d: Flink has no operator %s", where, m.Version, op.ID)
			continue
		}
		if fo.Parallelism != int(op.Parallelism) || fo.MaxParallelism != int(op.MaxParallelism) ||
			fo.UID != op.UID || fo.Name != op.Name || fo.FullyFinished != op.FullyFinished ||
			fo.CoordinatorState != (op.CoordinatorState != nil) || fo.SubtaskStates != len(op.Subtasks) {
			t.Errorf("%s v%d operator %s: Flink %+v, ckpt p=%d maxp=%d uid=%q name=%q finished=%v coord=%v subtasks=%d",
				where, m.Version, op.ID, fo, op.Parallelism, op.MaxParallelism, op.UID, op.Name, op.FullyFinished,
				op.CoordinatorState != nil, len(op.Subtasks))
		}
		if fo.StateSize != op.StateSize() || fo.CheckpointedSize != op.CheckpointedSize() {
			t.Errorf("%s v%d operator %s: Flink state size %d checkpointed %d, ckpt %d %d",
				where, m.Version, op.ID, fo.StateSize, fo.CheckpointedSize, op.StateSize(), op.CheckpointedSize())
		}
	}
}
