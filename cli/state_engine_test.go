package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// `ckpt state` on what ckpt's own engine writes: a job counts per key and
// sums the running counts; its retained incremental checkpoint (a chain of
// change logs with rebases, or of delta tables when the caches spill) and
// its native and canonical savepoints are read back, and every entry must
// be what the input says the job's state holds at that snapshot —
// computed from the source's position in the snapshot (the records before
// the barrier), not from the job's state.
func TestStateOfEngineSnapshots(t *testing.T) {
	if testing.Short() {
		t.Skip("runs jobs on the engine (about 5 s)")
	}
	cases := []struct {
		name         string
		keys         int64
		cacheEntries int
		// deltas: the kind of delta the retained checkpoint's chain must
		// hold.
		deltas string
	}{
		{"change logs and rebases", 20, 0, ".clog"},
		{"delta tables", 1000, 200, ".sst"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			chk, native, canonical := runEngineJob(t, tmp, tc.keys, tc.cacheEntries)
			m := readMeta(t, chk)
			if !chainHas(m, "counts", "delta-", tc.deltas) {
				t.Errorf("checkpoint %s: no %s delta in its chain: %s", chk, tc.deltas, localNames(m, "counts"))
			}
			if os.Getenv("CKPT_SHOW") != "" {
				for _, path := range []string{chk, native, canonical} {
					_, out, errOut := runCkpt(t, "state", path)
					t.Logf("%s\n%s%s", path, out, errOut)
					_, out, _ = runCkpt(t, "state", path, "--operator", "sums", "--limit", "3")
					t.Logf("%s", out)
				}
			}
			defer func() {
				// Corrupt files: an error naming the file and the byte
				// offset, never a panic or wrong entries.
				corrupt(t, chk, "counts", tc.deltas)
				corrupt(t, canonical, "counts", ".kg")
			}()
			for _, path := range []string{chk, native, canonical} {
				counts := expectedCounts(t, path, tc.keys)
				sums := map[string]int64{}
				for k, c := range counts {
					sums[k] = c * (c + 1) / 2 // the sum of the running counts 1..c
				}
				checkEntries(t, path, "counts", "count", counts)
				checkEntries(t, path, "sums", "sum", sums)
				// A key looked up: only its key group is read.
				code, out, errOut := runCkpt(t, "state", path, "--operator", "sums", "--key", "key-7", "--json")
				var e struct {
					Key   string `json:"key"`
					Value int64  `json:"value"`
				}
				if code != ExitOK || json.Unmarshal([]byte(strings.TrimSpace(out)), &e) != nil || e.Key != "key-7" || e.Value != sums["key-7"] {
					t.Errorf("%s --key key-7: exit %d, %q (want %d)\n%s", path, code, out, sums["key-7"], errOut)
				}
				// The source's operator state: its own bytes, raw.
				code, out, errOut = runCkpt(t, "state", path, "--operator", "source", "--json")
				if code != ExitOK || strings.Count(out, `"state":"splits"`) != 2 || !strings.Contains(out, `"serializer":"ckpt engine operator bytes"`) {
					t.Errorf("%s source: exit %d\n%s\n%s", path, code, out, errOut)
				}
				// The schema: kinds, types, counts and bytes per state.
				code, out, errOut = runCkpt(t, "state", path)
				want := fmt.Sprintf("count  VALUE  -          Long   \\s+%d", len(counts))
				if code != ExitOK || !strings.Contains(out, "key String") || !matches(out, want) || !strings.Contains(out, "splits  SPLIT_DISTRIBUTE") {
					t.Errorf("%s schema: exit %d, want %q\n%s\n%s", path, code, want, out, errOut)
				}
			}
		})
	}
}

func matches(s, re string) bool { return regexp.MustCompile(re).MatchString(s) }

// runEngineJob runs source → keyBy → count → keyBy → sum → discard with
// retained incremental checkpoints until the chain has grown, takes a
// native and a canonical savepoint, cancels, and returns the last
// retained checkpoint and the savepoints.
func runEngineJob(t *testing.T, tmp string, keys int64, cacheEntries int) (chk, native, canonical string) {
	t.Helper()
	g := graph.New("state-of-engine")
	g.Source("generator", func() operator.Source {
		return &builtin.Generator{Keys: keys, Rate: 10000}
	}).UID("source").Parallelism(2).
		KeyBy().Process("count", func() operator.Operator { return &builtin.Count{} }).UID("counts").Parallelism(2).
		KeyBy().Process("sum", func() operator.Operator { return &builtin.Sum{} }).UID("sums").Parallelism(2).
		Sink("discard", func() operator.Operator { return &builtin.Discard{} }).UID("sink")
	c := config.New()
	for _, kv := range []string{
		"execution.checkpointing.interval=40ms",
		"execution.checkpointing.dir=" + filepath.Join(tmp, "ckpt"),
		"execution.checkpointing.incremental=true",
		"execution.checkpointing.num-retained=50",
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
	} {
		if err := c.SetDynamic(kv); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	job, err := engine.Submit(ctx, g, c, engine.Options{CacheEntries: cacheEntries})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		job.Cancel()
		job.Wait()
	}()
	deadline := time.Now().Add(60 * time.Second)
	for completed(job) < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("6 checkpoints not completed in 60 s: %+v", job.Checkpoints())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if native, err = job.Savepoint(ctx, filepath.Join(tmp, "sp"), snapshot.FormatNative); err != nil {
		t.Fatal(err)
	}
	if canonical, err = job.Savepoint(ctx, filepath.Join(tmp, "sp"), snapshot.FormatCanonical); err != nil {
		t.Fatal(err)
	}
	before := completed(job)
	for completed(job) < before+2 {
		time.Sleep(20 * time.Millisecond)
	}
	job.Cancel()
	job.Wait()
	var newest int64
	for _, s := range job.Checkpoints() {
		if s.Status == "COMPLETED" && !s.Savepoint && !s.Discarded && s.ID > newest {
			chk, newest = s.Path, s.ID
		}
	}
	if chk == "" {
		t.Fatal("no retained checkpoint")
	}
	return chk, native, canonical
}

// completed is the newest completed checkpoint's ID (the history keeps
// only the latest few).
func completed(job *engine.Job) int64 {
	n := int64(0)
	for _, s := range job.Checkpoints() {
		if s.Status == "COMPLETED" && !s.Savepoint {
			n = max(n, s.ID)
		}
	}
	return n
}

func readMeta(t *testing.T, path string) *snapshot.Metadata {
	t.Helper()
	m, err := snapshot.Read(context.Background(), storage.Default(), path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func operatorByUID(t *testing.T, m *snapshot.Metadata, uid string) *snapshot.OperatorState {
	t.Helper()
	id := snapshot.OperatorIDFromUID(uid)
	for _, op := range m.Operators {
		if op.UID == uid || op.ID == id {
			return op
		}
	}
	t.Fatalf("no operator %s", uid)
	return nil
}

func localNames(m *snapshot.Metadata, uid string) []string {
	var out []string
	id := snapshot.OperatorIDFromUID(uid)
	for _, op := range m.Operators {
		if op.UID != uid && op.ID != id {
			continue
		}
		for _, st := range op.Subtasks {
			if h, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
				for _, f := range append(append([]snapshot.NamedHandle{}, h.Shared...), h.Private...) {
					out = append(out, f.LocalName)
				}
			}
		}
	}
	return out
}

func chainHas(m *snapshot.Metadata, uid, prefix, suffix string) bool {
	for _, n := range localNames(m, uid) {
		if strings.HasPrefix(n, prefix) && strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// expectedCounts computes, from the source's splits in the snapshot (each
// the arithmetic sequence next, next+step, … a subtask has yet to emit,
// started at next mod step), how many records of each key the job saw
// before the snapshot's barrier.
func expectedCounts(t *testing.T, path string, keys int64) map[string]int64 {
	t.Helper()
	m := readMeta(t, path)
	src := operatorByUID(t, m, "source")
	counts := map[string]int64{}
	splits := 0
	for _, st := range src.Subtasks {
		h, ok := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle)
		if !ok {
			t.Fatalf("%s: source subtask %d has operator state %T", path, st.Index, st.ManagedOperatorState)
		}
		var data []byte
		if b, ok := h.Delegate.(*snapshot.ByteStreamHandle); ok {
			data = b.Data
		} else {
			uri, _, err := m.FileURI(h.Delegate)
			if err != nil {
				t.Fatal(err)
			}
			if data, err = os.ReadFile(strings.TrimPrefix(uri, "file:")); err != nil {
				t.Fatal(err)
			}
		}
		for _, ns := range h.States {
			if ns.Name != "splits" {
				continue
			}
			for _, off := range ns.Offsets {
				n, k := binary.Uvarint(data[off:])
				if n != 16 {
					t.Fatalf("%s: split of %d bytes", path, n)
				}
				b := data[int(off)+k:]
				next, step := int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))
				for r := next % step; r < next; r += step {
					counts[fmt.Sprintf("key-%d", r%keys)]++
				}
				splits++
			}
		}
	}
	if splits == 0 {
		t.Fatalf("%s: the source recorded no splits", path)
	}
	return counts
}

// checkEntries reads every entry of the operator's state with
// `ckpt state --json` and holds them against want, entry by entry.
func checkEntries(t *testing.T, path, uid, stateName string, want map[string]int64) {
	t.Helper()
	code, out, errOut := runCkpt(t, "state", path, "--operator", uid, "--state", stateName, "--json", "--limit", "0")
	if code != ExitOK {
		t.Fatalf("%s %s: exit %d\n%s", path, uid, code, errOut)
	}
	got := map[string]int64{}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	for dec.More() {
		var e struct {
			State    string `json:"state"`
			KeyGroup int    `json:"key_group"`
			Key      string `json:"key"`
			Value    int64  `json:"value"`
		}
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s %s: %v\n%s", path, uid, err, out)
		}
		if e.State != stateName {
			t.Fatalf("%s %s: entry of state %q", path, uid, e.State)
		}
		if _, dup := got[e.Key]; dup {
			t.Fatalf("%s %s: key %s twice", path, uid, e.Key)
		}
		got[e.Key] = e.Value
	}
	if len(got) != len(want) {
		t.Errorf("%s %s: %d entries, want %d", path, uid, len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %s: key %s = %d, want %d", path, uid, k, got[k], v)
		}
	}
}

// corrupt flips a byte in the middle of every file of the operator's
// keyed state whose name ends with suffix (for native snapshots, a
// delta's local name; for canonical ones, the stream's path), and
// expects `ckpt state --operator` to fail naming the file and an offset.
func corrupt(t *testing.T, path, uid, suffix string) {
	t.Helper()
	m := readMeta(t, path)
	op := operatorByUID(t, m, uid)
	var files []string
	for _, st := range op.Subtasks {
		switch h := st.ManagedKeyedState.(type) {
		case *snapshot.IncrementalHandle:
			for _, f := range append(append([]snapshot.NamedHandle{}, h.Shared...), h.Private...) {
				if strings.HasPrefix(f.LocalName, "delta-") && strings.HasSuffix(f.LocalName, suffix) {
					uri, _, err := m.FileURI(f.Handle)
					if err != nil {
						t.Fatal(err)
					}
					files = append(files, uri)
				}
			}
		case *snapshot.KeyGroupsHandle:
			if uri, ok, _ := m.FileURI(h.Delegate); ok && strings.HasSuffix(uri, suffix) {
				files = append(files, uri)
			}
		}
	}
	if len(files) == 0 {
		t.Fatalf("%s: no %s file to corrupt", path, suffix)
	}
	for _, f := range files {
		local := strings.TrimPrefix(f, "file:")
		raw, err := os.ReadFile(local)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)/2] ^= 0x5A
		if err := os.WriteFile(local, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCkpt(t, "state", path, "--operator", uid, "--limit", "0")
	named := false
	for _, f := range files {
		named = named || strings.Contains(errOut, strings.TrimPrefix(f, "file:"))
	}
	if code == ExitOK || !named || !(strings.Contains(errOut, "offset") || strings.Contains(errOut, "at byte") || strings.Contains(errOut, "mismatch at") || strings.Contains(errOut, ": block ")) {
		t.Errorf("%s with %s corrupt: exit %d, want an error naming the file and offset\n%s\n%s", path, files, code, errOut, out)
	}
	if strings.Contains(errOut, "panic") {
		t.Errorf("panic: %s", errOut)
	}
}
