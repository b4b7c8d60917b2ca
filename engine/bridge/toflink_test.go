package bridge_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/bridge"
	"github.com/ckpt-dev/ckpt/engine/operator"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// countsSpec is jobs/exactly-once-counts.yaml with a bounded, slower
// generator, its output and checkpoints in dir.
func countsSpec(t *testing.T, dir string, limit, rate int) *spec.Spec {
	t.Helper()
	return writeSpec(t, dir, fmt.Sprintf(`name: exactly-once-counts
parallelism: 2
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.dir: file://%s/chk
pipeline:
  - op: generator
    uid: source
    keys: 300
    rate: %d
    limit: %d
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: file-sink
    uid: sink
    path: %s/out
`, dir, rate, limit, dir))
}

func windowsSpec(t *testing.T, dir string) *spec.Spec {
	t.Helper()
	return writeSpec(t, dir, fmt.Sprintf(`name: windowed-counts
parallelism: 2
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.dir: file://%s/chk
pipeline:
  - op: generator
    uid: events
    keys: 50
    rate: 4000
    timeStep: 1 ms
  - op: keyBy
  - op: window-count
    uid: per-second
    size: 1 s
  - op: filter
    minValue: 5
  - op: discard
`, dir))
}

func writeSpec(t *testing.T, dir, text string) *spec.Spec {
	t.Helper()
	p := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// engineSavepoint runs s on the engine for a while and stops it with a
// savepoint of format.
func engineSavepoint(t *testing.T, s *spec.Spec, dir string, format snapshot.SavepointFormat, run time.Duration) string {
	t.Helper()
	ctx := context.Background()
	job, err := engine.SubmitSpec(ctx, s, nil, nil, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); job.Status() != engine.Running && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(run)
	sp, err := job.StopWithSavepoint(ctx, filepath.Join(dir, "sp"), format, false)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := job.Wait(); st != engine.Finished {
		t.Fatalf("after stop with savepoint: %s %v", st, err)
	}
	return sp
}

// treeSums is every file under dir with its content's hash.
func treeSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keyedValues(t *testing.T, m *snapshot.Metadata, uid string) map[string]state.Entry {
	t.Helper()
	op := m.Operator(snapshot.OperatorIDFromUID(uid))
	if op == nil {
		t.Fatalf("no operator %q", uid)
	}
	out := map[string]state.Entry{}
	err := state.ReadKeyed(context.Background(), storage.Default(), m, op, "", func(e state.Entry) error {
		k := e.State + "/" + e.Key.(string)
		if tm, ok := e.Value.(state.Timer); ok {
			k += fmt.Sprintf("@%d", tm.Timestamp)
		}
		if _, dup := out[k]; dup {
			return fmt.Errorf("%s twice", k)
		}
		out[k] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func operatorElements(t *testing.T, m *snapshot.Metadata, uid string) map[string]map[int][][]byte {
	t.Helper()
	op := m.Operator(snapshot.OperatorIDFromUID(uid))
	out := map[string]map[int][][]byte{}
	err := state.ReadOperators(context.Background(), storage.Default(), m, op, func(e state.OperatorElement) error {
		var b []byte
		switch v := e.Value.(type) {
		case []byte:
			b = v
		case state.Raw:
			b, _ = hex.DecodeString(v.Hex)
		case state.SourceSplit: // decoded by the reader: framed again
			raw, _ := hex.DecodeString(v.Hex)
			b = state.AppendSimpleVersioned(nil, v.SerializerVersion, raw)
		default:
			return fmt.Errorf("%s: %T", e.State, e.Value)
		}
		if out[e.State] == nil {
			out[e.State] = map[int][][]byte{}
		}
		out[e.State][e.Subtask] = append(out[e.State][e.Subtask], b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The exactly-once job's engine savepoints (canonical and native) convert
// into a Flink canonical savepoint that the reader of Flink's formats reads
// back with every key's count, in Flink's key group, in the subtask owning
// it; the source's splits become reader splits plus the enumerator's
// state; the sink's pending files stay union state; the source directory
// is not touched.
func TestToFlinkExactlyOnce(t *testing.T) {
	for _, format := range []snapshot.SavepointFormat{snapshot.FormatCanonical, snapshot.FormatNative} {
		t.Run(string(format), func(t *testing.T) {
			dir := t.TempDir()
			s := countsSpec(t, dir, 200000, 20000)
			sp := engineSavepoint(t, s, dir, format, 600*time.Millisecond)
			before := treeSums(t, sp)
			ctx := context.Background()
			src, err := snapshot.Read(ctx, storage.Default(), sp)
			if err != nil {
				t.Fatal(err)
			}
			for _, version := range []int{0, snapshot.Version4} {
				dst := filepath.Join(dir, fmt.Sprintf("flink-v%d", version))
				o := bridge.ToFlinkOptions{Spec: s, Version: version}
				if version == snapshot.Version4 {
					o.Spec = nil // each operator's kind told by its state names
				}
				res, err := bridge.ToFlink(ctx, storage.Default(), sp, dst, o)
				if err != nil {
					t.Fatal(err)
				}
				got, err := snapshot.Read(ctx, storage.Default(), dst)
				if err != nil {
					t.Fatal(err)
				}
				wantV := version
				if wantV == 0 {
					wantV = snapshot.Version6
				}
				p, _, _ := got.Properties()
				if got.Version != wantV || res.Version != wantV || p.Kind != snapshot.KindSavepoint || p.Format != snapshot.FormatCanonical {
					t.Fatalf("_metadata V%d %+v, want V%d canonical savepoint", got.Version, p, wantV)
				}
				if bridge.IsEngineSnapshot(ctx, storage.Default(), got) {
					t.Error("the converted savepoint still reads as the engine's")
				}
				for _, op := range src.Operators {
					g := got.Operator(op.ID)
					if g == nil || g.Parallelism != op.Parallelism || g.MaxParallelism != op.MaxParallelism {
						t.Fatalf("operator %s: %+v, source %+v", op.ID, g, op)
					}
				}

				// Keyed: the same counts, at Flink's key groups.
				want := keyedValues(t, src, "count-per-key")
				have := keyedValues(t, got, "count-per-key")
				if len(want) < 100 || len(have) != len(want) {
					t.Fatalf("%d keyed entries written, the engine has %d", len(have), len(want))
				}
				op := got.Operator(snapshot.OperatorIDFromUID("count-per-key"))
				for k, e := range want {
					h, ok := have[k]
					if !ok || h.Value != e.Value {
						t.Fatalf("%s: %v, the engine has %v", k, h.Value, e.Value)
					}
					kg, _ := state.KeyGroup(e.Key, int(op.MaxParallelism))
					if h.KeyGroup != kg {
						t.Fatalf("%s in key group %d, Flink's is %d", k, h.KeyGroup, kg)
					}
				}
				for i, st := range op.Subtasks {
					r := st.ManagedKeyedState.KeyGroups()
					if r != snapshot.KeyGroupRangeFor(op.MaxParallelism, op.Parallelism, int32(i)) {
						t.Errorf("subtask %d holds key groups %v", i, r)
					}
				}
				proxy, format, err := state.ReadKeyedSchema(ctx, storage.Default(), got, op)
				if err != nil || state.IsEngineFormat(format) || proxy.Key.Snapshot != state.ClassStringSnapshot || len(proxy.States) != 3 ||
					proxy.States[0].Name != "count" || proxy.States[2].Name != "_timer_state/event_user-timers" {
					t.Fatalf("keyed schema %+v %q %v", proxy, format, err)
				}

				// Source: every split, as the runner's (index, next, step).
				engineSplitsOf := operatorElements(t, src, "source")["splits"]
				flink := operatorElements(t, got, "source")[state.SourceReaderState]
				var wantSplits, gotSplits []string
				for sub, es := range engineSplitsOf {
					for _, e := range es {
						next, step := int64(binary.BigEndian.Uint64(e)), int64(binary.BigEndian.Uint64(e[8:]))
						wantSplits = append(wantSplits, fmt.Sprintf("%d:%d/%d/%d", sub, next%step, next, step))
					}
				}
				for sub, es := range flink {
					for _, e := range es {
						v, ok := state.Known(state.SourceReaderState, e)
						ss, _ := v.(state.SourceSplit)
						b, _ := hex.DecodeString(ss.Hex)
						if !ok || ss.SerializerVersion != 1 || len(b) != 20 {
							t.Fatalf("reader state element %x: %+v", e, v)
						}
						gotSplits = append(gotSplits, fmt.Sprintf("%d:%d/%d/%d", sub, binary.BigEndian.Uint32(b), binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])))
					}
				}
				sort.Strings(wantSplits)
				sort.Strings(gotSplits)
				if len(wantSplits) != 2 || strings.Join(gotSplits, " ") != strings.Join(wantSplits, " ") {
					t.Errorf("reader splits %v, the engine's %v", gotSplits, wantSplits)
				}
				cs := got.Operator(snapshot.OperatorIDFromUID("source")).CoordinatorState
				if cs == nil || hex.EncodeToString(cs.Data) != "0000000100000001000000050100000000" {
					t.Errorf("coordinator state %+v", cs)
				}

				// Sink: the pending files, union, per subtask.
				ep := operatorElements(t, src, "sink")[operator.UnionPrefix+"pending"]
				fp := operatorElements(t, got, "sink")["pending"]
				if fmt.Sprint(ep) != fmt.Sprint(fp) {
					t.Errorf("pending %v, the engine's %v", fp, ep)
				}
				for _, st := range got.Operator(snapshot.OperatorIDFromUID("sink")).Subtasks {
					h := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle)
					if len(h.States) != 1 || h.States[0].Mode != snapshot.Union {
						t.Errorf("sink handle %+v", h.States)
					}
				}
			}
			if after := treeSums(t, sp); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the source savepoint changed")
			}
		})
	}
}

// A retained checkpoint (the engine's native, incremental format) converts
// like a savepoint.
func TestToFlinkRetainedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s := writeSpec(t, dir, strings.Replace(countsSpec(t, dir, 200000, 20000).Text, "  execution.checkpointing.interval: 200 ms\n",
		"  execution.checkpointing.interval: 200 ms\n  execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION\n", 1))
	ctx := context.Background()
	job, err := engine.SubmitSpec(ctx, s, nil, nil, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var chk string
	for deadline := time.Now().Add(10 * time.Second); chk == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r := job.Retained(); len(r) > 0 && r[len(r)-1].ID >= 3 {
			chk = r[len(r)-1].Dir
		}
	}
	job.Cancel()
	job.Wait()
	if chk == "" {
		t.Fatal("no retained checkpoint")
	}
	dst := filepath.Join(dir, "flink")
	if _, err := bridge.ToFlink(ctx, storage.Default(), chk, dst, bridge.ToFlinkOptions{Spec: s}); err != nil {
		t.Fatal(err)
	}
	src, _ := snapshot.Read(ctx, storage.Default(), chk)
	got, err := snapshot.Read(ctx, storage.Default(), dst)
	if err != nil {
		t.Fatal(err)
	}
	want, have := keyedValues(t, src, "count-per-key"), keyedValues(t, got, "count-per-key")
	if len(want) == 0 || len(have) != len(want) {
		t.Fatalf("%d keyed entries written, the checkpoint has %d", len(have), len(want))
	}
	for k, e := range want {
		if have[k].Value != e.Value {
			t.Fatalf("%s: %v, the checkpoint has %v", k, have[k].Value, e.Value)
		}
	}
}

// The window-count job's open windows convert with one event-time timer per
// window at its last millisecond (the runner's WindowCount fires a window
// by it).
func TestToFlinkWindows(t *testing.T) {
	dir := t.TempDir()
	s := windowsSpec(t, dir)
	sp := engineSavepoint(t, s, dir, snapshot.FormatCanonical, 500*time.Millisecond)
	ctx := context.Background()
	dst := filepath.Join(dir, "flink")
	if _, err := bridge.ToFlink(ctx, storage.Default(), sp, dst, bridge.ToFlinkOptions{}); err == nil || !strings.Contains(err.Error(), "window size") {
		t.Fatalf("windows without the spec: %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("a refused conversion left %s: %v", dst, err)
	}
	res, err := bridge.ToFlink(ctx, storage.Default(), sp, dst, bridge.ToFlinkOptions{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	src, _ := snapshot.Read(ctx, storage.Default(), sp)
	got, err := snapshot.Read(ctx, storage.Default(), dst)
	if err != nil {
		t.Fatal(err)
	}
	want := keyedValues(t, src, "per-second")
	have := keyedValues(t, got, "per-second")
	timers := map[string][]int64{}
	for k, e := range have {
		if strings.HasPrefix(k, "_timer_state/event_user-timers"+"/") {
			timers[e.Key.(string)] = append(timers[e.Key.(string)], e.Value.(state.Timer).Timestamp)
		}
	}
	n := 0
	for k, e := range want {
		key := strings.TrimPrefix(k, "windows"+"/")
		ws := e.Value.([]state.EngineWindow)
		h := have[k]
		b, _ := h.Value.([]byte)
		var wantTs []int64
		for i, w := range ws {
			if len(b) != 16*len(ws) || int64(binary.BigEndian.Uint64(b[16*i:])) != w.Start || int64(binary.BigEndian.Uint64(b[16*i+8:])) != w.Count {
				t.Fatalf("%s: windows %x, the engine's %v", k, b, ws)
			}
			wantTs = append(wantTs, w.Start+999)
			n++
		}
		got := timers[key]
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		sort.Slice(wantTs, func(i, j int) bool { return wantTs[i] < wantTs[j] })
		if fmt.Sprint(got) != fmt.Sprint(wantTs) {
			t.Fatalf("%s: timers %v, want %v", key, got, wantTs)
		}
	}
	if n == 0 || len(want) == 0 || res.Operators[0].Kind == "" {
		t.Fatalf("no open window in the savepoint (%d keys)", len(want))
	}
	// The stateless filter and sink have no state and keep their IDs.
	if len(got.Operators) != len(src.Operators) {
		t.Errorf("%d operators, the engine's savepoint has %d", len(got.Operators), len(src.Operators))
	}
}

// failingFS fails the nth Create, after putting a foreign file into the
// directory being written (as another writer might).
type failingFS struct {
	storage.FS
	n, calls int
	foreign  string
}

func (f *failingFS) Create(ctx context.Context, uri string, o storage.CreateOptions) (storage.Writer, error) {
	f.calls++
	if f.calls == f.n {
		f.foreign = filepath.Join(filepath.Dir(uri), "precious.txt")
		if err := os.WriteFile(f.foreign, []byte("precious"), 0o644); err != nil {
			return nil, err
		}
		return nil, errors.New("injected create failure")
	}
	return f.FS.Create(ctx, uri, o)
}

// Refusals: an existing destination, the source's own directory, a spec
// whose operators are not the savepoint's, a Flink savepoint; a failure
// while writing removes exactly the files written and keeps a foreign file.
func TestToFlinkRefusesAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	s := countsSpec(t, dir, 100000, 20000)
	sp := engineSavepoint(t, s, dir, snapshot.FormatCanonical, 300*time.Millisecond)
	ctx := context.Background()
	before := treeSums(t, sp)

	exists := filepath.Join(dir, "exists")
	os.MkdirAll(exists, 0o755)
	os.WriteFile(filepath.Join(exists, "precious.txt"), []byte("precious"), 0o644)
	if _, err := bridge.ToFlink(ctx, storage.Default(), sp, exists, bridge.ToFlinkOptions{Spec: s}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("existing destination: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(exists, "precious.txt")); string(b) != "precious" {
		t.Error("a file in the existing destination was touched")
	}
	if _, err := bridge.ToFlink(ctx, storage.Default(), sp, sp, bridge.ToFlinkOptions{Spec: s}); err == nil {
		t.Error("the source directory was accepted as the destination")
	}

	other := writeSpec(t, t.TempDir(), strings.Replace(s.Text, "uid: count-per-key", "uid: counts-v2", 1))
	if _, err := bridge.ToFlink(ctx, storage.Default(), sp, filepath.Join(dir, "x"), bridge.ToFlinkOptions{Spec: other}); err == nil ||
		!strings.Contains(err.Error(), snapshot.OperatorIDFromUID("count-per-key").String()) {
		t.Errorf("a spec without the savepoint's keyed operator: %v", err)
	}

	// The same uid on another operator: its state is not what the runner's
	// sum keeps, and the refusal names the state.
	summing := writeSpec(t, t.TempDir(), strings.Replace(s.Text, "  - op: count\n", "  - op: sum\n", 1))
	if _, err := bridge.ToFlink(ctx, storage.Default(), sp, filepath.Join(dir, "x"), bridge.ToFlinkOptions{Spec: summing}); err == nil ||
		!strings.Contains(err.Error(), `keyed state "count" has no counterpart in the runner's sum`) {
		t.Errorf("count state into a sum: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("a refused conversion made its destination: %v", err)
	}

	// With -n's leave, that operator's state is left out, and said so.
	res, err := bridge.ToFlink(ctx, storage.Default(), sp, filepath.Join(dir, "dropped"), bridge.ToFlinkOptions{Spec: other, AllowNonRestored: true})
	if err != nil {
		t.Fatal(err)
	}
	countID := snapshot.OperatorIDFromUID("count-per-key")
	if len(res.Dropped) != 1 || !strings.Contains(res.Dropped[0], countID.String()) {
		t.Errorf("dropped %v", res.Dropped)
	}
	if m, err := snapshot.Read(ctx, storage.Default(), filepath.Join(dir, "dropped")); err != nil || m.Operator(countID) != nil || len(m.Operators) != 2 {
		t.Errorf("with the keyed operator dropped: %v", err)
	}

	dst := filepath.Join(dir, "half")
	ffs := &failingFS{FS: storage.Default(), n: 4}
	if _, err := bridge.ToFlink(ctx, ffs, sp, dst, bridge.ToFlinkOptions{Spec: s}); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("injected failure: %v", err)
	}
	ents, _ := os.ReadDir(dst)
	if len(ents) != 1 || ents[0].Name() != "precious.txt" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("after a failed conversion %s holds %v, want only the foreign file", dst, names)
	}
	// Without a foreign file the directory it made goes too.
	ffs = &failingFS{FS: storage.Default(), n: 100}
	okDst := filepath.Join(dir, "ok")
	if _, err := bridge.ToFlink(ctx, ffs, sp, okDst, bridge.ToFlinkOptions{Spec: s}); err != nil {
		t.Fatal(err)
	}
	// A Flink savepoint (the conversion's own output) is not converted again.
	if _, err := bridge.ToFlink(ctx, storage.Default(), okDst, filepath.Join(dir, "again"), bridge.ToFlinkOptions{Spec: s}); !errors.Is(err, bridge.ErrNotEngine) {
		t.Errorf("a Flink savepoint: %v", err)
	}
	if after := treeSums(t, sp); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("the source savepoint changed")
	}
}

// sum and dedupe keep their Long states under their own names ("sum",
// "seen"), the file source its splits: each converts to the runner's.
func TestToFlinkSumDedupeFile(t *testing.T) {
	for _, tc := range []struct{ op, state, source string }{
		{"sum", "sum", "generator\n    keys: 100\n    rate: 20000\n    limit: 1000000"},
		{"dedupe", "seen", "generator\n    keys: 100\n    rate: 20000\n    limit: 1000000"},
		{"count", "count", "file\n    path: %s/words.txt"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			dir := t.TempDir()
			var lines strings.Builder
			for i := range 2000000 { // more than the engine reads before the savepoint
				fmt.Fprintf(&lines, "w%d\n", i%77)
			}
			os.WriteFile(filepath.Join(dir, "words.txt"), []byte(lines.String()), 0o644)
			src := tc.source
			if strings.Contains(src, "%s") {
				src = fmt.Sprintf(src, dir)
			}
			s := writeSpec(t, dir, fmt.Sprintf(`name: x
parallelism: 2
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.dir: file://%s/chk
pipeline:
  - op: %s
    uid: in
  - op: keyBy
  - op: %s
    uid: keyed
  - op: discard
`, dir, src, tc.op))
			sp := engineSavepoint(t, s, dir, snapshot.FormatCanonical, 50*time.Millisecond)
			ctx := context.Background()
			res, err := bridge.ToFlink(ctx, storage.Default(), sp, filepath.Join(dir, "flink"), bridge.ToFlinkOptions{Spec: s})
			if err != nil {
				t.Fatal(err)
			}
			srcM, _ := snapshot.Read(ctx, storage.Default(), sp)
			got, err := snapshot.Read(ctx, storage.Default(), filepath.Join(dir, "flink"))
			if err != nil {
				t.Fatal(err)
			}
			want, have := keyedValues(t, srcM, "keyed"), keyedValues(t, got, "keyed")
			if len(want) == 0 || len(have) != len(want) {
				t.Fatalf("%d entries written, the engine has %d (%+v)", len(have), len(want), res.Operators)
			}
			for k, e := range want {
				if !strings.HasPrefix(k, tc.state+"/") || have[k].Value != e.Value {
					t.Fatalf("%s: %v, the engine has %v", k, have[k].Value, e.Value)
				}
			}
			in := snapshot.OperatorIDFromUID("in")
			if srcM.Operator(in).FullyFinished { // the source read all before the savepoint
				if !got.Operator(in).FullyFinished {
					t.Error("a finished source converted as running")
				}
			} else if n := len(operatorElements(t, got, "in")[state.SourceReaderState]); n != 2 {
				t.Errorf("reader splits of %d subtasks", n)
			}
		})
	}
}

// ForFlink converts an engine savepoint beside it, "<name>-flink" and then
// "-flink-2" once that exists, in the version the Flink reads; a Flink
// savepoint or an unreadable path is left alone (nil), and a Flink
// version ckpt cannot write for is an error naming the savepoint.
func TestForFlinkConvertsBeside(t *testing.T) {
	dir := t.TempDir()
	s := countsSpec(t, dir, 200000, 20000)
	sp := engineSavepoint(t, s, dir, snapshot.FormatCanonical, 300*time.Millisecond)
	ctx := context.Background()
	fsys := storage.NewLocal()
	for i, want := range []struct {
		dir     string
		version int
		flink   string
	}{
		{sp + "-flink", snapshot.Version6, "2.3.0"},
		{sp + "-flink-2", snapshot.Version4, "1.20.5"},
	} {
		res, err := bridge.ForFlink(ctx, fsys, sp, want.flink, bridge.ToFlinkOptions{Spec: s})
		if err != nil || res == nil || res.Dir != want.dir || res.Version != want.version {
			t.Fatalf("conversion %d for Flink %s: %+v %v, want %s in V%d", i+1, want.flink, res, err, want.dir, want.version)
		}
		// The conversion is a Flink savepoint: nothing more to convert.
		if again, err := bridge.ForFlink(ctx, fsys, res.Dir, want.flink, bridge.ToFlinkOptions{Spec: s}); again != nil || err != nil {
			t.Errorf("a Flink savepoint converted again: %+v %v", again, err)
		}
	}
	if res, err := bridge.ForFlink(ctx, fsys, filepath.Join(dir, "missing"), "2.3.0", bridge.ToFlinkOptions{}); res != nil || err != nil {
		t.Errorf("an unreadable path: %+v %v, want it left to the cluster", res, err)
	}
	if _, err := bridge.ForFlink(ctx, fsys, sp, "1.2.0", bridge.ToFlinkOptions{Spec: s}); err == nil || !strings.Contains(err.Error(), sp) {
		t.Errorf("Flink 1.2: %v, want an error naming the savepoint", err)
	}
}
