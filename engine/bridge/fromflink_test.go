package bridge_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/bridge"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// The fixtures under testdata/ are real Flink 2.3 canonical savepoints of
// runner jobs at parallelism 3, taken part-way by stop-with-savepoint
// (cli's TestFlinkSavepointResumesOnEngine writes them with
// CKPT_UPDATE_BRIDGE_TESTDATA=1): exactly-once-counts (40000 records over
// 100 keys, count, file sink) and windowed-counts (40000 records over 50
// keys, 1 s windows, file sink).

const runnerCountsSpec = `name: exactly-once-counts
parallelism: 2
pipeline:
  - op: generator
    uid: source
    keys: 100
    limit: 40000
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: file-sink
    uid: sink
    path: %s
`

const runnerWindowsSpec = `name: windowed-counts
parallelism: 2
pipeline:
  - op: generator
    uid: events
    keys: 50
    limit: 40000
    timeStep: 1 ms
  - op: keyBy
  - op: window-count
    uid: per-second
    size: 1 s
  - op: file-sink
    uid: sink
    path: %s
`

func flinkSavepointFixture(t *testing.T, name string) *snapshot.Metadata {
	t.Helper()
	m, err := checkpoint.LoadMetadata(context.Background(), storage.NewLocal(), filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func prepareSpec(t *testing.T, text string) (*spec.Spec, *graph.Graph) {
	t.Helper()
	s, err := spec.Parse("job.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg, g, err := s.Prepare(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Finalize(o.Parallelism, o.MaxParallelism); err != nil {
		t.Fatal(err)
	}
	return s, g
}

func operatorOf(t *testing.T, m *snapshot.Metadata, uid string) *snapshot.OperatorState {
	t.Helper()
	op := m.Operator(snapshot.OperatorIDFromUID(uid))
	if op == nil {
		t.Fatalf("no operator %q in %s", uid, m.Location)
	}
	return op
}

// longValues reads a Long value state of operator uid: key → value.
func longValues(t *testing.T, m *snapshot.Metadata, uid, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := fstate.ReadKeyed(context.Background(), storage.NewLocal(), m, operatorOf(t, m, uid), name, func(e fstate.Entry) error {
		switch v := e.Value.(type) {
		case int64:
			out[e.Key.(string)] = v
		case []byte: // the engine's state without a recorded schema
			out[e.Key.(string)] = int64(binary.BigEndian.Uint64(v))
		default:
			return fmt.Errorf("value %T", e.Value)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// commitFlinkPending makes the files the sink's pending state names exist in
// out, as Flink left them when its stop-with-savepoint committed them.
func commitFlinkPending(t *testing.T, m *snapshot.Metadata, out string) int {
	t.Helper()
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := fstate.ReadOperators(context.Background(), storage.NewLocal(), m, operatorOf(t, m, "sink"), func(e fstate.OperatorElement) error {
		var p struct{ Final string }
		if err := json.Unmarshal(e.Value.([]byte), &p); err != nil {
			return err
		}
		n++
		return os.WriteFile(filepath.Join(out, p.Final), nil, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func runRestoredSpec(t *testing.T, s *spec.Spec, dir string) {
	t.Helper()
	over := config.New()
	if err := over.Set(config.RestorePath, dir, "test"); err != nil {
		t.Fatal(err)
	}
	job, err := engine.SubmitSpec(context.Background(), s, nil, over, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := job.Wait(); st != engine.Finished {
		t.Fatalf("restored job %s: %v", st, err)
	}
}

func committedOutput(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 {
			lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
		}
	}
	slices.Sort(lines)
	return lines
}

// A Flink savepoint of the exactly-once example (parallelism 3) resumes
// on the engine at parallelism 2: every key's count continues from
// Flink's value to the end, once each, so the keyed values, the splits and
// the sink's pending files all came across; the converted state is keyed
// by the engine's key groups.
func TestFromFlinkCountsResumeRescaled(t *testing.T) {
	m := flinkSavepointFixture(t, "exactly-once-counts")
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	s, g := prepareSpec(t, fmt.Sprintf(runnerCountsSpec, out))
	flinkCounts := longValues(t, m, "count-per-key", "count")
	if len(flinkCounts) != 100 {
		t.Fatalf("the fixture has %d counts, want 100", len(flinkCounts))
	}
	pending := commitFlinkPending(t, m, out)

	dir := filepath.Join(tmp, "converted")
	res, err := bridge.FromFlink(context.Background(), storage.NewLocal(), m, dir, bridge.FromFlinkOptions{Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keys["count"] != 100 || res.Splits != 3 || len(res.Dropped) != 0 {
		t.Errorf("moved %v keys, %d splits, dropped %v; want 100 counts, 3 splits, nothing dropped", res.Keys, res.Splits, res.Dropped)
	}
	if pending == 0 {
		t.Errorf("the fixture's sink has no pending file")
	}

	// The converted savepoint is ckpt's own, its values Flink's, each in
	// the key group of the engine's hash.
	conv, err := checkpoint.LoadMetadata(context.Background(), storage.NewLocal(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if flink, err := bridge.IsFlink(context.Background(), storage.NewLocal(), conv); err != nil || flink {
		t.Errorf("IsFlink(converted) = %v, %v; want false", flink, err)
	}
	if flink, err := bridge.IsFlink(context.Background(), storage.NewLocal(), m); err != nil || !flink {
		t.Errorf("IsFlink(Flink's) = %v, %v; want true", flink, err)
	}
	if got := longValues(t, conv, "count-per-key", "count"); !sameValues(got, flinkCounts) {
		t.Errorf("converted counts differ from Flink's")
	}
	err = fstate.ReadKeyed(context.Background(), storage.NewLocal(), conv, operatorOf(t, conv, "count-per-key"), "", func(e fstate.Entry) error {
		if want := enginefmt.KeyGroupOf(e.Key.(string), 128); e.KeyGroup != want {
			return fmt.Errorf("key %q in key group %d, the engine's is %d", e.Key, e.KeyGroup, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	runRestoredSpec(t, s, dir)
	var want []string
	for k, c := range flinkCounts {
		for n := c + 1; n <= 400; n++ {
			want = append(want, fmt.Sprintf("%s,%d", k, n))
		}
	}
	slices.Sort(want)
	if got := committedOutput(t, out); !slices.Equal(got, want) {
		t.Fatalf("after the restore %d lines were committedOutput, want %d (every key from Flink's count to 400)", len(got), len(want))
	}
}

// Windows open in a Flink savepoint of windowed counts fire on the engine
// with their counts: Flink's timers are dropped, the engine rebuilds them
// from "windows". Every window of every key that had not fired on Flink
// fires once with its full count (1000 records a window over 50 keys).
func TestFromFlinkWindowsFire(t *testing.T) {
	m := flinkSavepointFixture(t, "windowed-counts")
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	s, g := prepareSpec(t, fmt.Sprintf(runnerWindowsSpec, out))
	commitFlinkPending(t, m, out)
	// The first window still open on Flink: every earlier one fired there.
	first := int64(-1)
	open := 0
	err := fstate.ReadKeyed(context.Background(), storage.NewLocal(), m, operatorOf(t, m, "per-second"), "windows", func(e fstate.Entry) error {
		v := e.Value.([]byte)
		for i := 0; i+16 <= len(v); i += 16 {
			st := int64(binary.BigEndian.Uint64(v[i:]))
			if first < 0 || st < first {
				first = st
			}
			open++
		}
		return nil
	})
	if err != nil || first < 0 {
		t.Fatalf("no open window in the fixture (%v)", err)
	}
	dir := filepath.Join(tmp, "converted")
	res, err := bridge.FromFlink(context.Background(), storage.NewLocal(), m, dir, bridge.FromFlinkOptions{Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keys["windows"] == 0 {
		t.Fatalf("no windows moved: %v", res.Keys)
	}
	runRestoredSpec(t, s, dir)
	got := committedOutput(t, out)
	windows := 40 - int(first/1000)
	var want []string
	for w := 0; w < windows; w++ {
		for k := 0; k < 50; k++ {
			want = append(want, fmt.Sprintf("key-%d,20", k))
		}
	}
	slices.Sort(want)
	t.Logf("%d windows open at the savepoint; %d windows fired on the engine", open, windows)
	if !slices.Equal(got, want) {
		t.Fatalf("the engine committedOutput %d lines, want %d: %d windows of 50 keys, count 20 each", len(got), len(want), windows)
	}
}

// What the engine has no counterpart for is refused, naming the operator
// and the state; an operator the job lacks is the restore rules' (refused
// without -n, left out with it); the target must be new.
func TestFromFlinkRefuses(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	_, g := prepareSpec(t, fmt.Sprintf(runnerCountsSpec, t.TempDir()))
	rename := func(m *snapshot.Metadata, uid, from, to string) {
		t.Helper()
		op := operatorOf(t, m, uid)
		old := append(binary.BigEndian.AppendUint16(nil, uint16(len(from))), from...)
		neu := append(binary.BigEndian.AppendUint16(nil, uint16(len(to))), to...)
		n := 0
		for _, st := range op.Subtasks {
			var h snapshot.StreamHandle
			if k, ok := st.ManagedKeyedState.(*snapshot.KeyGroupsHandle); ok {
				h = k.Delegate
			}
			if o, ok := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle); ok {
				h = o.Delegate
				for i := range o.States {
					if o.States[i].Name == from {
						o.States[i].Name = to
					}
				}
			}
			if b, ok := h.(*snapshot.ByteStreamHandle); ok && bytes.Contains(b.Data, old) {
				b.Data = bytes.ReplaceAll(b.Data, old, neu)
				n++
			}
		}
		if n == 0 {
			t.Fatalf("no state %q in operator %s", from, uid)
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(m *snapshot.Metadata)
		g      *graph.Graph
		want   string
	}{
		{"unknown keyed state", func(m *snapshot.Metadata) { rename(m, "count-per-key", "count", "couny") }, nil,
			`operator 5b61d6019ab04da71a4e62533c1a8c40 (uid "count-per-key"): keyed state "couny" (VALUE): the engine has no counterpart for it`},
		{"unknown operator state", func(m *snapshot.Metadata) { rename(m, "sink", "pending", "pendinG") }, nil,
			`(uid "sink"): operator state "pendinG" (UNION): the engine has no counterpart for it`},
		{"operator the job lacks", func(m *snapshot.Metadata) {}, graphWithoutOperator(t, "sink"),
			`cannot map snapshot state to the job: no operator for 1 operator(s) with state: 2e588ce1c86a9d46e2e85186773ce4fd (uid "sink")`},
		{"raw keyed state", func(m *snapshot.Metadata) {
			st := operatorOf(t, m, "count-per-key").Subtasks[0]
			st.RawKeyedState = st.ManagedKeyedState
		}, nil, `(uid "count-per-key"): subtask 0 has raw (non-managed) state`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := flinkSavepointFixture(t, "exactly-once-counts")
			tc.mutate(m)
			dir := filepath.Join(t.TempDir(), "converted")
			gg := tc.g
			if gg == nil {
				gg = g
			}
			_, err := bridge.FromFlink(ctx, fsys, m, dir, bridge.FromFlinkOptions{Graph: gg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("a refused conversion wrote %s", dir)
			}
		})
	}

	t.Run("allow non-restored state leaves the operator out", func(t *testing.T) {
		m := flinkSavepointFixture(t, "exactly-once-counts")
		res, err := bridge.FromFlink(ctx, fsys, m, filepath.Join(t.TempDir(), "c"), bridge.FromFlinkOptions{Graph: graphWithoutOperator(t, "sink"), AllowNonRestored: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Dropped) != 1 || res.Dropped[0].UID != "sink" || res.Metadata.Operator(snapshot.OperatorIDFromUID("sink")) != nil {
			t.Errorf("dropped %v; the sink in the result: %v", res.Dropped, res.Metadata.Operator(snapshot.OperatorIDFromUID("sink")) != nil)
		}
	})

	t.Run("the target exists", func(t *testing.T) {
		m := flinkSavepointFixture(t, "exactly-once-counts")
		dir := t.TempDir()
		precious := filepath.Join(dir, "precious")
		if err := os.WriteFile(precious, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := bridge.FromFlink(ctx, fsys, m, dir, bridge.FromFlinkOptions{Graph: g}); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Fatalf("err = %v", err)
		}
		if b, err := os.ReadFile(precious); err != nil || string(b) != "x" {
			t.Errorf("precious file: %q %v", b, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%d entries in the existing directory, want its 1", len(ents))
		}
	})
}

func graphWithoutOperator(t *testing.T, uid string) *graph.Graph {
	t.Helper()
	text := strings.Replace(fmt.Sprintf(runnerCountsSpec, t.TempDir()), "  - op: file-sink\n    uid: sink\n    path: ", "  - op: discard\n    uid: other-sink\n    #", 1)
	_, g := prepareSpec(t, text)
	if g.ByID(snapshot.OperatorIDFromUID(uid)) != nil {
		t.Fatalf("graph still has %s", uid)
	}
	return g
}

func sameValues(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The engine given a Flink snapshot as it is (the TUI's resume, ckpt
// serve) refuses it, saying to convert it, instead of reading Flink's
// bytes as its own.
func TestEngineRefusesUnconvertedFlinkSnapshot(t *testing.T) {
	s, _ := prepareSpec(t, fmt.Sprintf(runnerCountsSpec, filepath.Join(t.TempDir(), "out")))
	over := config.New()
	if err := over.Set(config.RestorePath, filepath.Join("testdata", "exactly-once-counts"), "test"); err != nil {
		t.Fatal(err)
	}
	_, err := engine.SubmitSpec(context.Background(), s, nil, over, engine.Options{})
	if err == nil || !strings.Contains(err.Error(), "it is a Flink snapshot, which the engine restores once converted into a ckpt savepoint (ckpt run -s converts it)") {
		t.Fatalf("err = %v", err)
	}
}
