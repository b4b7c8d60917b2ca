package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// bigOpState holds operator state above the inline threshold, so its
// snapshots write an operator state file.
type bigOpState struct{ operator.Base }

func (bigOpState) Process(r operator.Record, out operator.Collector) error {
	out.Collect(r)
	return nil
}
func (bigOpState) Snapshot(int64) (operator.State, error) {
	return operator.State{"blob": {bytes.Repeat([]byte("ckpt operator state "), 1500)}}, nil
}

// verifyJob is generator → keyBy → count → bigOpState → discard, with
// every operator's uid fixed so snapshots map back onto it.
func verifyJob(records int64, rate float64) *graph.Graph {
	g := graph.New("verify")
	g.Source("generator", func() operator.Source {
		return &builtin.Generator{Keys: 3000, Limit: records, Rate: rate}
	}).UID("source").Parallelism(1).
		KeyBy().Process("count", func() operator.Operator { return &builtin.Count{} }).UID("count").Parallelism(1).
		Process("big", func() operator.Operator { return bigOpState{} }).UID("big").
		// Ten keys: their counts stay in the value cache, so this
		// operator's checkpoints write change logs.
		Process("fold", func() operator.Operator {
			return &operator.Map{Fn: func(r operator.Record) operator.Record { r.Key = r.Key[len(r.Key)-1:]; return r }}
		}).UID("fold").
		KeyBy().Process("count10", func() operator.Operator { return &builtin.Count{} }).UID("count10").
		Sink("discard", func() operator.Operator { return builtin.Discard{} }).UID("sink")
	return g
}

// verifySnapshots runs verifyJob until a retained checkpoint holds every
// kind of keyed file (a base image with its tables, MANIFEST and OPTIONS,
// delta tables, change logs), takes a canonical and a native savepoint, and cancels.
// It returns the checkpoint's directory and the two savepoints'.
func verifySnapshots(t *testing.T) (chk, canonical, native string) {
	t.Helper()
	tmp := t.TempDir()
	// Small value caches: entries are evicted, so every checkpoint writes
	// a sorted delta table; after a few dozen the chain gets a base image.
	job, err := Submit(context.Background(), verifyJob(0, 20000), cfg(t,
		"execution.checkpointing.interval=10ms",
		"execution.checkpointing.num-retained=100000",
		"execution.checkpointing.dir="+filepath.Join(tmp, "ckpt"),
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
	), Options{CacheEntries: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	kinds := func(c *checkpoint.Completed) (base, delta bool) {
		for _, op := range c.Metadata.Operators {
			for _, st := range op.Subtasks {
				if ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
					for _, f := range append(append([]snapshot.NamedHandle(nil), ih.Shared...), ih.Private...) {
						base = base || strings.HasPrefix(f.LocalName, "MANIFEST-")
						delta = delta || strings.HasPrefix(f.LocalName, "delta-")
					}
				}
			}
		}
		return
	}
	deadline := time.Now().Add(90 * time.Second)
	for chk == "" {
		for _, c := range job.Retained() {
			if base, delta := kinds(c); base && delta {
				chk = c.Dir
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint with a base image and deltas (status %s): %+v", job.Status(), job.Checkpoints())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx := context.Background()
	if canonical, err = job.Savepoint(ctx, filepath.Join(tmp, "sp"), snapshot.FormatCanonical); err != nil {
		t.Fatal(err)
	}
	if native, err = job.Savepoint(ctx, filepath.Join(tmp, "sp"), snapshot.FormatNative); err != nil {
		t.Fatal(err)
	}
	return chk, canonical, native
}

// snapFile is a data file of a snapshot: the path an error should name
// (relative to the job directory for a checkpoint: shared/…, chk-N/…; to
// the parent of the savepoint directory for a savepoint: savepoint-…/…)
// and what kind of file it is.
type snapFile struct{ rel, kind string }

// snapshotFiles lists the data files a snapshot references (everything
// but _metadata) by their local path.
func snapshotFiles(t *testing.T, dir string) map[string]snapFile {
	t.Helper()
	m, err := snapshot.Read(context.Background(), storage.Default(), dir)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Dir(dir)
	files := map[string]snapFile{}
	add := func(p, kind string) {
		p = strings.TrimPrefix(p, "file:")
		rel, err := filepath.Rel(base, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("file %s outside %s", p, base)
		}
		files[p] = snapFile{rel: filepath.ToSlash(rel), kind: kind}
	}
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			switch h := st.ManagedKeyedState.(type) {
			case *snapshot.IncrementalHandle:
				for _, f := range append(append([]snapshot.NamedHandle(nil), h.Shared...), h.Private...) {
					uri, _, err := m.FileURI(f.Handle)
					if err != nil {
						t.Fatal(err)
					}
					add(uri, localKind(f.LocalName))
				}
			case *snapshot.KeyGroupsHandle:
				uri, _, err := m.FileURI(h.Delegate)
				if err != nil {
					t.Fatal(err)
				}
				add(uri, "canonical-stream")
			}
			if h, ok := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle); ok {
				if uri, ok, _ := m.FileURI(h.Delegate); ok {
					add(uri, "operator-state")
				}
			}
		}
	}
	return files
}

// localKind is the kind of a keyed state file by its name in the backend.
func localKind(name string) string {
	for _, k := range []struct{ prefix, suffix, kind string }{
		{"delta-", ".sst", "delta-table"}, {"delta-", ".clog", "change-log"}, {"", ".sst", "table"},
		{"MANIFEST-", "", "MANIFEST"}, {"OPTIONS-", "", "OPTIONS"}, {"marker.", "", "marker"}, {"", ".log", "wal"},
		{"CKPT-CHAIN", "", "chain"}, {"CKPT-SUMS", "", "sums"},
	} {
		if strings.HasPrefix(name, k.prefix) && strings.HasSuffix(name, k.suffix) {
			return k.kind
		}
	}
	return "other:" + name
}

// flipOffsets are the bytes of a file of size n a test flips: all of a
// small file, otherwise the first and last edge bytes and an even spread
// of others between.
func flipOffsets(n int64, edge, spread int) []int64 {
	e := int64(edge)
	if n <= 2*e+int64(spread) {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(i)
		}
		return out
	}
	var out []int64
	for i := int64(0); i < e; i++ {
		out = append(out, i, n-1-i)
	}
	for i := 1; i <= spread; i++ {
		out = append(out, e+int64(i)*(n-2*e)/int64(spread+1))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// resumeFails resumes verifyJob from dir (restarts allowed) and requires
// the job to fail at once — no restart — with an error containing want.
func resumeFails(t *testing.T, dir, want string, fsys storage.FS) {
	t.Helper()
	job, err := Submit(context.Background(), verifyJob(100, 0), cfg(t,
		"execution.state-recovery.path="+dir,
		"restart-strategy.type=fixed-delay",
		"restart-strategy.fixed-delay.attempts=5",
		"restart-strategy.fixed-delay.delay=200ms",
	), Options{FS: fsys})
	if err != nil {
		// Refused before it started: fine, if it says what.
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("resume from %s refused with %q, want it to name %q", dir, err, want)
		}
		return
	}
	done := make(chan struct{})
	var st Status
	go func() { defer close(done); st, err = job.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		job.Cancel()
		t.Fatalf("resume from %s (expecting %q) did not end (status %s, %d restarts)", dir, want, job.Status(), job.Attempts())
	}
	if st != Failed || err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("resume from %s: %s %v; want FAILED naming %q", dir, st, err, want)
	}
	if n := job.Attempts(); n != 0 {
		t.Fatalf("resume from %s: %d restarts before failing, want none: %v", dir, n, err)
	}
	if !job.StartFailed() {
		t.Fatalf("resume from %s: StartFailed false", dir)
	}
}

// Any byte flipped in any file a checkpoint or a savepoint (canonical or
// native) holds — keyed state tables, change logs, the base image's
// MANIFEST and OPTIONS, the chain file, the checksum file, the canonical
// stream with its key-group checksums, operator state files — fails the resume at
// once, naming the snapshot's file; the intact snapshot resumes.
func TestRestoreDetectsFlippedBytes(t *testing.T) {
	chk, canonical, native := verifySnapshots(t)
	// Bytes flipped per file, and files per kind (files of one kind share
	// one format and one check).
	// (engine/state's TestVerifySnapshot flips every byte of each kind
	// of keyed file against the checksums directly.)
	edge, spread, perKind := 8, 16, 2
	if testing.Short() {
		edge, spread, perKind = 2, 2, 1
	}
	for _, tc := range []struct{ name, dir string }{{"checkpoint", chk}, {"canonical", canonical}, {"native", native}} {
		t.Run(tc.name, func(t *testing.T) {
			files := snapshotFiles(t, tc.dir)
			kinds := map[string]bool{}
			seen := map[string]int{}
			paths := make([]string, 0, len(files))
			for path := range files {
				paths = append(paths, path)
			}
			sort.Strings(paths)
			for _, path := range paths {
				f := files[path]
				kinds[f.kind] = true
				if seen[f.kind]++; seen[f.kind] > perKind {
					continue
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				n := spread
				if f.kind == "canonical-stream" {
					n *= 8 // one file holds every key group, each checked on its own
				}
				for _, off := range flipOffsets(int64(len(data)), edge, n) {
					data[off] ^= 0xFF
					os.WriteFile(path, data, 0o644)
					resumeFails(t, tc.dir, f.rel, nil)
					data[off] ^= 0xFF
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s: %d files of kinds %v", tc.name, len(files), keys(kinds))
			for _, k := range wantKinds[tc.name] {
				if !kinds[k] {
					t.Errorf("%s has no %s file (kinds %v): the test does not cover it", tc.name, k, keys(kinds))
				}
			}
			// Intact again: it resumes and finishes.
			job, err := Submit(context.Background(), verifyJob(100, 0), cfg(t, "execution.state-recovery.path="+tc.dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if st, err := job.Wait(); st != Finished {
				t.Fatalf("intact %s: %s %v", tc.name, st, err)
			}
		})
	}
}

var wantKinds = map[string][]string{
	"checkpoint": {"table", "delta-table", "change-log", "MANIFEST", "OPTIONS", "chain", "sums", "operator-state"},
	"native":     {"table", "delta-table", "change-log", "MANIFEST", "OPTIONS", "chain", "sums", "operator-state"},
	"canonical":  {"canonical-stream", "operator-state"},
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A savepoint with a missing file, or whose _metadata points a relative
// handle outside the savepoint directory, fails the resume at once.
func TestRestoreMissingOrEscapingFileFailsAtOnce(t *testing.T) {
	_, canonical, native := verifySnapshots(t)
	t.Run("missing", func(t *testing.T) {
		for path, f := range snapshotFiles(t, native) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(path)
			resumeFails(t, native, f.rel, nil)
			os.WriteFile(path, data, 0o644)
		}
	})
	t.Run("escaping", func(t *testing.T) {
		ctx := context.Background()
		m, err := snapshot.Read(ctx, storage.Default(), canonical)
		if err != nil {
			t.Fatal(err)
		}
		escaped := false
		for _, op := range m.Operators {
			for _, st := range op.Subtasks {
				if kh, ok := st.ManagedKeyedState.(*snapshot.KeyGroupsHandle); ok {
					if rh, ok := kh.Delegate.(*snapshot.RelativeFileHandle); ok {
						rh.RelativePath = "../../outside/" + rh.RelativePath
						escaped = true
					}
				}
			}
		}
		if !escaped {
			t.Fatal("no relative keyed handle in the canonical savepoint")
		}
		data, err := snapshot.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), filepath.Base(canonical))
		copyTree(t, canonical, dir)
		if err := os.WriteFile(filepath.Join(dir, checkpoint.MetadataName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		resumeFails(t, dir, "../../outside/", nil)
	})
}

// flakyFS fails the first n opens of files under dir (other than
// _metadata) as an unreachable storage would.
type flakyFS struct {
	storage.FS
	dir   string
	n     int64
	fails atomic.Int64
}

var errUnreachable = errors.New("dial tcp 10.0.0.1:8020: connect: connection refused")

func (f *flakyFS) Open(ctx context.Context, uri string) (storage.File, error) {
	if strings.HasPrefix(uri, f.dir) && filepath.Base(uri) != checkpoint.MetadataName && f.fails.Add(1) <= f.n {
		return nil, fmt.Errorf("open %s: %w", uri, errUnreachable)
	}
	return f.FS.Open(ctx, uri)
}

// Storage that cannot be reached is a transient failure: the resume
// follows the restart strategy — restarted until the storage answers,
// or failed at the first failure without restarts.
func TestRestoreTransientFailureRestarts(t *testing.T) {
	_, canonical, _ := verifySnapshots(t)
	t.Run("fixed-delay", func(t *testing.T) {
		fsys := &flakyFS{FS: storage.Default(), dir: canonical, n: 3}
		job, err := Submit(context.Background(), verifyJob(100, 0), cfg(t,
			"execution.state-recovery.path="+canonical,
			"restart-strategy.type=fixed-delay",
			"restart-strategy.fixed-delay.attempts=5",
			"restart-strategy.fixed-delay.delay=10ms",
		), Options{FS: fsys})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := job.Wait(); st != Finished {
			t.Fatalf("%s %v, want FINISHED after the storage came back", st, err)
		}
		// Tasks open side by side: an attempt may see several failed opens.
		if n := job.Attempts(); n < 1 || n > 3 {
			t.Fatalf("%d restarts, want 1 to 3 (at most one per failed open)", n)
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		fsys := &flakyFS{FS: storage.Default(), dir: canonical, n: 1 << 30}
		job, err := Submit(context.Background(), verifyJob(100, 0), cfg(t,
			"execution.state-recovery.path="+canonical,
			"restart-strategy.type=fixed-delay",
			"restart-strategy.fixed-delay.attempts=3",
			"restart-strategy.fixed-delay.delay=10ms",
		), Options{FS: fsys})
		if err != nil {
			t.Fatal(err)
		}
		st, err := job.Wait()
		if st != Failed || !errors.Is(err, errUnreachable) || job.Attempts() != 3 {
			t.Fatalf("%s %v after %d restarts, want FAILED with the storage error after 3", st, err, job.Attempts())
		}
	})
	t.Run("none", func(t *testing.T) {
		fsys := &flakyFS{FS: storage.Default(), dir: canonical, n: 1}
		job, err := Submit(context.Background(), verifyJob(100, 0), cfg(t,
			"execution.state-recovery.path="+canonical,
			"restart-strategy.type=none",
		), Options{FS: fsys})
		if err != nil {
			t.Fatal(err)
		}
		st, err := job.Wait()
		if st != Failed || !errors.Is(err, errUnreachable) || job.Attempts() != 0 {
			t.Fatalf("%s %v after %d restarts, want FAILED at once", st, err, job.Attempts())
		}
	})
}

// An operator configuration that Open refuses fails the job at once, with
// its message, whatever the restart strategy allows.
func TestOpenValidationFailsAtOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		op   func() operator.Operator
		want string
	}{
		{"window-count size 0", func() operator.Operator { return &builtin.WindowCount{} }, "window-count: size must be at least 1 ms"},
		{"file sink on a file", func() operator.Operator { return &builtin.FileSink{Dir: file} }, "is a file, not a directory"},
		{"file sink below a file", func() operator.Operator { return &builtin.FileSink{Dir: filepath.Join(file, "out")} }, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := graph.New("validate")
			g.Source("generator", func() operator.Source { return &builtin.Generator{Keys: 10, Limit: 100} }).UID("source").
				KeyBy().Process("op", tc.op).UID("op").
				Sink("discard", func() operator.Operator { return builtin.Discard{} }).UID("sink")
			job, err := Submit(context.Background(), g, cfg(t,
				"restart-strategy.type=fixed-delay",
				"restart-strategy.fixed-delay.attempts=100",
				"restart-strategy.fixed-delay.delay=100ms",
			), Options{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			st, err := job.Wait()
			if st != Failed || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s %v, want FAILED with %q", st, err, tc.want)
			}
			if n := job.Attempts(); n != 0 || time.Since(start) > 10*time.Second {
				t.Fatalf("%d restarts in %s before failing, want none", n, time.Since(start))
			}
			if !job.StartFailed() {
				t.Fatal("StartFailed false")
			}
		})
	}
}

// stripChecksums rewrites the snapshot at dir into the shape ckpt wrote
// before it recorded checksums: no CKPT-SUMS among the keyed files, the
// canonical stream without its checksums and suffix, operator state files
// named without their CRC-32C.
func stripChecksums(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	m, err := snapshot.Read(ctx, storage.Default(), dir)
	if err != nil {
		t.Fatal(err)
	}
	rename := func(h *snapshot.RelativeFileHandle, to string) {
		if err := os.Rename(filepath.Join(dir, h.RelativePath), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
		h.RelativePath = to
	}
	stripped := 0
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			switch h := st.ManagedKeyedState.(type) {
			case *snapshot.IncrementalHandle:
				keep := h.Private[:0]
				for _, f := range h.Private {
					if f.LocalName == "CKPT-SUMS" {
						stripped++
						continue
					}
					keep = append(keep, f)
				}
				h.Private = keep
			case *snapshot.KeyGroupsHandle:
				rh := h.Delegate.(*snapshot.RelativeFileHandle)
				path := filepath.Join(dir, rh.RelativePath)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// The key-group checksums follow the stream.
				os.WriteFile(path, data[:len(data)-(4*len(h.Offsets)+24)], 0o644)
				rename(rh, strings.TrimSuffix(rh.RelativePath, ".kg"))
				stripped++
			}
			if h, ok := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle); ok {
				if rh, ok := h.Delegate.(*snapshot.RelativeFileHandle); ok {
					rename(rh, rh.RelativePath[:strings.Index(rh.RelativePath, ".crc32c-")])
					stripped++
				}
			}
		}
	}
	if stripped == 0 {
		t.Fatalf("%s: nothing to strip", dir)
	}
	data, err := snapshot.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, checkpoint.MetadataName), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Snapshots written before ckpt recorded checksums restore, unverified:
// a checkpoint and both savepoint formats stripped to that shape resume
// and finish.
func TestRestoreSnapshotsWithoutChecksums(t *testing.T) {
	chk, canonical, native := verifySnapshots(t)
	for _, tc := range []struct{ name, dir string }{{"checkpoint", chk}, {"canonical", canonical}, {"native", native}} {
		t.Run(tc.name, func(t *testing.T) {
			stripChecksums(t, tc.dir)
			job, err := Submit(context.Background(), verifyJob(100, 0), cfg(t,
				"execution.state-recovery.path="+tc.dir, "restart-strategy.type=none"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if st, err := job.Wait(); st != Finished {
				t.Fatalf("%s without checksums: %s %v", tc.name, st, err)
			}
		})
	}
}
