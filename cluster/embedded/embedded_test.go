package embedded

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/spec"
)

// countsSpec is a keyed job: generator → keyBy → count → discard, so it
// runs as two vertices (the source; count chained with the sink).
const countsSpec = `name: counts
parallelism: 2
config:
  execution.checkpointing.interval: 100 ms
pipeline:
  - op: generator
    uid: source
    keys: 100
    rate: 2000
  - op: keyBy
  - op: count
    uid: counter
  - op: discard
    uid: sink
`

func newCluster(t *testing.T) (*Cluster, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.New()
	for k, v := range map[string]string{
		config.CheckpointDir: "file://" + filepath.Join(dir, "checkpoints"),
		config.Retention:     "RETAIN_ON_CANCELLATION",
		config.NumRetained:   "2",
	} {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Options{Config: cfg, Version: "ckpt-test"})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return c, dir
}

func submit(t *testing.T, c *Cluster, spec string, req cluster.RunRequest) string {
	t.Helper()
	ctx := context.Background()
	a, err := c.UploadArtifact(ctx, "counts.yaml", strings.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.RunArtifact(ctx, a.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// waitFor polls cond until it holds or 30 s passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLifecycle(t *testing.T) {
	c, dir := newCluster(t)
	ctx := context.Background()
	id := submit(t, c, countsSpec, cluster.RunRequest{})
	if !cluster.IsJobID(id) {
		t.Fatalf("job id %q", id)
	}
	var st *cluster.CheckpointStats
	waitFor(t, "two completed checkpoints", func() bool {
		var err error
		st, err = c.Checkpoints(ctx, id)
		return err == nil && st.Counts.Completed >= 2
	})

	jobs, err := c.Jobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].ID != id || jobs[0].Name != "counts" || jobs[0].Status != cluster.JobRunning ||
		jobs[0].Tasks["TOTAL"] != 4 || jobs[0].Tasks[cluster.TaskRunning] != 4 {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
	job, err := c.Job(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Vertices) != 2 {
		t.Fatalf("vertices %+v", job.Vertices)
	}
	src, cnt := job.Vertices[0], job.Vertices[1]
	if !strings.HasPrefix(src.Name, "Source: ") || src.Parallelism != 2 || cnt.Parallelism != 2 || src.MaxParallelism != 128 ||
		len(cnt.Operators) != 2 || cnt.Operators[0].UID != "counter" || cnt.Operators[1].UID != "sink" || cnt.ID != cnt.Operators[0].ID ||
		!strings.Contains(cnt.Name, " -> ") || src.Status != cluster.TaskRunning || job.StatusCounts[cluster.TaskRunning] != 2 {
		t.Fatalf("vertices %+v", job.Vertices)
	}
	waitFor(t, "records to flow", func() bool {
		job, _ = c.Job(ctx, id)
		return job.Vertices[0].Metrics.WriteRecords > 0 && job.Vertices[1].Metrics.ReadRecords > 0
	})
	if job.Vertices[0].Metrics.ReadRecords != 0 || job.Vertices[1].Metrics.WriteRecords != 0 {
		t.Errorf("a source reads nothing over the network and a sink writes nothing: %+v", job.Vertices)
	}
	if job.Timestamps[cluster.JobInitializing].IsZero() || job.Timestamps[cluster.JobRunning].IsZero() || !job.End.IsZero() {
		t.Errorf("timestamps %+v end %v", job.Timestamps, job.End)
	}

	st, _ = c.Checkpoints(ctx, id)
	lc := st.LatestCompleted
	if lc == nil || lc.NumSubtasks != 4 || lc.NumAcked != 4 || !strings.Contains(lc.ExternalPath, filepath.Join(dir, "checkpoints", id, "chk-")) ||
		lc.Type != cluster.TypeCheckpoint || lc.Savepoint || lc.StateSize == 0 {
		t.Fatalf("latest completed %+v", lc)
	}
	if st.Counts.Total < st.Counts.Completed || len(st.History) == 0 || st.History[0].ID < st.History[len(st.History)-1].ID {
		t.Errorf("counts %+v history %+v", st.Counts, st.History)
	}
	if !st.Summary.StateSize.HasPercentiles || st.Summary.StateSize.Max < st.Summary.StateSize.Min || st.Summary.EndToEndDuration.Max == 0 {
		t.Errorf("summary %+v", st.Summary)
	}
	det, err := c.CheckpointDetail(ctx, id, lc.ID)
	if err != nil || len(det.Tasks) != 2 || det.Tasks[cnt.ID].NumAcked != 2 || det.Tasks[src.ID].NumSubtasks != 2 {
		t.Fatalf("detail %+v %v", det, err)
	}
	sub, err := c.CheckpointSubtasks(ctx, id, lc.ID, cnt.ID)
	if err != nil || len(sub.Subtasks) != 2 || !sub.Subtasks[0].Acknowledged || sub.Subtasks[1].AckTime.IsZero() ||
		sub.Summary.StateSize.Max == 0 || sub.StateSize != det.Tasks[cnt.ID].StateSize {
		t.Fatalf("subtasks %+v %v", sub, err)
	}
	if _, err := c.CheckpointSubtasks(ctx, id, lc.ID, "00000000000000000000000000000000"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("unknown vertex: %v", err)
	}
	if _, err := c.CheckpointDetail(ctx, id, 999999); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("unknown checkpoint: %v", err)
	}
	cfg, err := c.CheckpointConfig(ctx, id)
	if err != nil || cfg.Interval != 100*time.Millisecond || cfg.Retention != cluster.RetainOnCancellation || cfg.Mode != "EXACTLY_ONCE" {
		t.Errorf("checkpoint config %+v %v", cfg, err)
	}

	// A manual checkpoint, idempotent by trigger id.
	tr, err := c.TriggerCheckpoint(ctx, id, cluster.CheckpointRequest{TriggerID: "0123456789abcdef0123456789abcdef"})
	if err != nil || tr.ID != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("trigger %+v %v", tr, err)
	}
	tr2, err := c.TriggerCheckpoint(ctx, id, cluster.CheckpointRequest{TriggerID: tr.ID})
	if err != nil || tr2 != tr {
		t.Fatalf("re-trigger %+v %v", tr2, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	op, err := cluster.Wait(wctx, c, tr)
	cancel()
	if err != nil || op.CheckpointID <= lc.ID {
		t.Fatalf("manual checkpoint %+v %v", op, err)
	}
	if _, err := c.Poll(ctx, cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: id, ID: "ffffffffffffffffffffffffffffffff"}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("unknown trigger: %v", err)
	}
	if _, err := c.TriggerCheckpoint(ctx, id, cluster.CheckpointRequest{Type: "BOGUS"}); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("bad checkpoint type: %v", err)
	}

	// Cancel: CANCELED, retained checkpoints kept (RETAIN_ON_CANCELLATION).
	if err := c.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CANCELED", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobCanceled })
	if err := c.Cancel(ctx, id); err != nil {
		t.Errorf("cancelling a cancelled job succeeds, as in Flink: %v", err)
	}
	job, _ = c.Job(ctx, id)
	if job.End.IsZero() || job.Vertices[0].Status != cluster.TaskCanceled {
		t.Errorf("cancelled job %+v", job)
	}
	ov, _ := c.Overview(ctx)
	if ov.JobsCancelled != 1 || ov.JobsRunning != 0 || ov.SlotsAvailable != ov.SlotsTotal || ov.Version != "ckpt-test" {
		t.Errorf("overview %+v", ov)
	}
	st, _ = c.Checkpoints(ctx, id)
	retained := st.LatestCompleted.ExternalPath
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(retained, "file://"), "_metadata")); err != nil {
		t.Fatalf("retained checkpoint %s: %v", retained, err)
	}

	// Resume from the retained checkpoint: latest.restored names it and
	// checkpoint ids continue after it.
	id2 := submit(t, c, countsSpec, cluster.RunRequest{SavepointPath: retained, ClaimMode: cluster.NoClaim})
	waitFor(t, "a checkpoint after the restore", func() bool {
		s, err := c.Checkpoints(ctx, id2)
		return err == nil && s.Counts.Completed >= 1
	})
	st2, _ := c.Checkpoints(ctx, id2)
	if st2.LatestRestored == nil || st2.LatestRestored.ID != st.LatestCompleted.ID || st2.LatestRestored.Savepoint ||
		st2.LatestRestored.ExternalPath != retained || st2.Counts.Restored != 1 || st2.LatestCompleted.ID <= st.LatestCompleted.ID {
		t.Errorf("restored %+v, latest %+v", st2.LatestRestored, st2.LatestCompleted)
	}
	if id2 == id {
		t.Error("a resumed job has a new job ID")
	}
}

func TestErrors(t *testing.T) {
	c, dir := newCluster(t)
	ctx := context.Background()
	a, err := c.UploadArtifact(ctx, "counts.yaml", strings.NewReader(countsSpec))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
		kind error
		msg  string
	}{
		{"bad job id", func() error { _, err := c.Job(ctx, "nothex"); return err }, cluster.ErrBadRequest, `"nothex"`},
		{"unknown job", func() error { _, err := c.Checkpoints(ctx, "0123456789abcdef0123456789abcdef"); return err },
			cluster.ErrNotFound, "Job 0123456789abcdef0123456789abcdef not found"},
		{"spec typo at upload", func() error {
			_, err := c.UploadArtifact(ctx, "typo.yaml", strings.NewReader("name: x\npipeline:\n  - op: generatr\n"))
			return err
		}, cluster.ErrBadRequest, "typo.yaml:3"},
		{"jar", func() error {
			_, err := c.UploadArtifact(ctx, "job.jar", strings.NewReader("PK\x03\x04rest"))
			return err
		}, cluster.ErrBadRequest, "is a jar"},
		{"unknown artifact", func() error { _, err := c.RunArtifact(ctx, "nope.yaml", cluster.RunRequest{}); return err },
			cluster.ErrNotFound, "nope.yaml does not exist"},
		{"bad config value", func() error {
			_, err := c.RunArtifact(ctx, a.ID, cluster.RunRequest{Config: map[string]string{"execution.checkpointing.interval": "soon"}})
			return err
		}, cluster.ErrBadRequest, "execution.checkpointing.interval"},
		{"bad claim mode", func() error {
			_, err := c.RunArtifact(ctx, a.ID, cluster.RunRequest{SavepointPath: dir, ClaimMode: "MAYBE"})
			return err
		}, cluster.ErrBadRequest, "claimMode"},
		{"restore from nothing", func() error {
			_, err := c.RunArtifact(ctx, a.ID, cluster.RunRequest{SavepointPath: filepath.Join(dir, "missing")})
			return err
		}, cluster.ErrBadRequest, "missing"},
		{"program args", func() error {
			_, err := c.RunArtifact(ctx, a.ID, cluster.RunRequest{ProgramArgs: []string{"--x"}})
			return err
		}, cluster.ErrBadRequest, "no program arguments"},
		{"bad pinned job id", func() error { _, err := c.RunArtifact(ctx, a.ID, cluster.RunRequest{JobID: "abc"}); return err },
			cluster.ErrBadRequest, "jobId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v; want %v containing %q", err, tc.kind, tc.msg)
			}
		})
	}
	jobs, _ := c.Jobs(ctx)
	if len(jobs) != 0 {
		t.Errorf("failed submissions left jobs: %+v", jobs)
	}
}

func TestPinnedJobID(t *testing.T) {
	c, _ := newCluster(t)
	ctx := context.Background()
	const want = "00112233445566778899aabbccddeeff"
	id := submit(t, c, countsSpec, cluster.RunRequest{JobID: want})
	if id != want {
		t.Fatalf("job id %s, want %s", id, want)
	}
	a, _ := c.UploadArtifact(ctx, "counts.yaml", strings.NewReader(countsSpec))
	if _, err := c.RunArtifact(ctx, a.ID, cluster.RunRequest{JobID: want}); !errors.Is(err, cluster.ErrConflict) {
		t.Errorf("duplicate job id: %v", err)
	}
}

// TestDispose: a savepoint directory goes (given as the directory or its
// _metadata); a checkpoint or a directory that is no snapshot stays, with
// the reason in the operation's failure.
func TestDispose(t *testing.T) {
	c, _ := newCluster(t)
	ctx := context.Background()
	fixtures := filepath.Join("..", "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink")
	savepointMeta, err := os.ReadFile(filepath.Join(fixtures, "new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint", "_metadata"))
	if err != nil {
		t.Skipf("shared fixtures: %v", err)
	}
	checkpointMeta, err := os.ReadFile(filepath.Join(fixtures, "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	put := func(rel string, data []byte) string {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sp1 := filepath.Dir(put("sp/savepoint-a1b2c3-0123456789ab/_metadata", savepointMeta))
	// A file the savepoint's _metadata does not reference (the fixture's
	// handles name files of the machine that wrote it): it must stay.
	foreign := put("sp/savepoint-a1b2c3-0123456789ab/notes.txt", []byte("precious"))
	sp2meta := put("sp/savepoint-d4e5f6-0123456789ab/_metadata", savepointMeta)
	chk := filepath.Dir(put("cp/0123456789abcdef0123456789abcdef/chk-7/_metadata", checkpointMeta))
	plain := filepath.Dir(put("data/readme.txt", []byte("not a snapshot")))
	corrupt := filepath.Dir(put("sp/savepoint-ffffff-0123456789ab/_metadata", []byte("garbage")))

	for _, tc := range []struct {
		name, path string
		gone       string // directory that must be gone; "" = must fail
		msg        string
		keep       string
	}{
		{"savepoint dir", sp1, filepath.Join(sp1, "_metadata"), "", foreign},
		{"savepoint _metadata", sp2meta, filepath.Dir(sp2meta), "", ""},
		{"checkpoint", chk, "", "is a checkpoint (chk-N), not a savepoint", chk},
		{"not a snapshot", plain, "", "no _metadata", plain},
		{"corrupt", corrupt, "", "_metadata", corrupt},
		{"missing", filepath.Join(root, "nope"), "", "nope", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := c.DisposeSavepoint(ctx, tc.path)
			if err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, err = cluster.Wait(wctx, c, tr)
			if tc.gone != "" {
				if err != nil {
					t.Fatalf("dispose: %v", err)
				}
				if _, err := os.Stat(tc.gone); !os.IsNotExist(err) {
					t.Errorf("%s still there: %v", tc.gone, err)
				}
				if b, err := os.ReadFile(tc.keep); tc.keep != "" && (err != nil || string(b) != "precious") {
					t.Errorf("%s was touched: %q %v", tc.keep, b, err)
				}
				return
			}
			var f *cluster.Failure
			if !errors.As(err, &f) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "Could not dispose savepoint") {
				t.Errorf("dispose %s: %v; want a failure containing %q", tc.path, err, tc.msg)
			}
			if tc.keep != "" {
				if _, err := os.Stat(tc.keep); err != nil {
					t.Errorf("%s was touched: %v", tc.keep, err)
				}
			}
		})
	}
	if _, err := c.DisposeSavepoint(ctx, " "); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("empty path: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		in   []int64
		p    float64
		want float64
	}{
		// Figures from a real Flink 2.3 history: two samples.
		{[]int64{48306, 48409}, .50, 48357.5},
		{[]int64{48306, 48409}, .90, 48409},
		{[]int64{1, 2, 3, 4}, .50, 2.5},
		{[]int64{7}, .99, 7},
		{[]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, .10, 1.1},
	} {
		if got := percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
		}
	}
}

// countsTracker is the statistics tracker of countsSpec at parallelism 2.
func countsTracker(t *testing.T) *tracker {
	t.Helper()
	s, err := spec.Parse("t.yaml", []byte(countsSpec))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Finalize(2, -1); err != nil {
		t.Fatal(err)
	}
	return newTracker(g)
}

// TestTrackerProgress feeds the statistics the engine's events for one
// checkpoint at a time and checks what Flink would show: an in-progress
// entry with partial acknowledgements and pending subtasks, completion,
// failure, subsumption (discarded), and tasks (chains) rather than
// operators as subtasks.
func TestTrackerProgress(t *testing.T) {
	tr := countsTracker(t)
	if len(tr.chains) != 2 || tr.total != 4 {
		t.Fatalf("chains %+v total %d", tr.chains, tr.total)
	}
	src, cnt := tr.chains[0], tr.chains[1] // source | count -> discard
	t0 := time.UnixMilli(1_700_000_000_000)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ack := func(id int64, op *graph.Vertex, sub int, ms int, size int64) event.Event {
		return event.Event{Kind: event.SubtaskAcknowledged, Time: at(ms), CheckpointID: id, OperatorID: op.ID.String(),
			Subtask: sub, StateSize: size, Checkpointed: size / 2, SyncDuration: time.Millisecond, AsyncDuration: 3 * time.Millisecond}
	}
	tr.observe(event.Event{Kind: event.CheckpointTriggered, Time: at(0), CheckpointID: 7})
	tr.observe(ack(7, src.ops[0], 0, 10, 100))
	tr.observe(ack(7, src.ops[0], 1, 12, 100))
	tr.observe(ack(7, cnt.ops[0], 0, 20, 1000)) // count of subtask 0 acked, its chained sink not yet
	st := tr.stats(at(25))
	if st.Counts.InProgress != 1 || st.Counts.Total != 1 || len(st.History) != 1 {
		t.Fatalf("counts %+v", st.Counts)
	}
	h := st.History[0]
	if h.Status != cluster.CheckpointInProgress || h.NumAcked != 2 || h.NumSubtasks != 4 || h.EndToEnd != 20*time.Millisecond {
		t.Errorf("in progress %+v", h)
	}
	v, found, vertex := tr.subtasks(7, cnt.id)
	if !found || !vertex || v.NumAcked != 0 || v.Subtasks[0].Acknowledged || v.Subtasks[1].Acknowledged {
		t.Errorf("count chain while its sink has not acknowledged: %+v", v)
	}
	tr.observe(ack(7, cnt.ops[1], 0, 22, 10))
	v, _, _ = tr.subtasks(7, cnt.id)
	if v.NumAcked != 1 || !v.Subtasks[0].Acknowledged || v.Subtasks[0].StateSize != 1010 || v.Subtasks[0].EndToEnd != 22*time.Millisecond ||
		v.Subtasks[0].Async != 3*time.Millisecond || v.Subtasks[1].Acknowledged {
		t.Errorf("one task of the chain acknowledged: %+v", v)
	}
	tr.observe(ack(7, cnt.ops[0], 1, 30, 1000))
	tr.observe(ack(7, cnt.ops[1], 1, 31, 10))
	tr.observe(event.Event{Kind: event.CheckpointCompleted, Time: at(32), CheckpointID: 7, Path: "/c/chk-7", StateSize: 2220,
		Checkpointed: 1110, Duration: 32 * time.Millisecond})
	st = tr.stats(at(40))
	lc := st.LatestCompleted
	if st.Counts.Completed != 1 || st.Counts.InProgress != 0 || lc == nil || lc.NumAcked != 4 || lc.ExternalPath != "/c/chk-7" ||
		lc.StateSize != 2220 || lc.EndToEnd != 32*time.Millisecond || lc.Discarded {
		t.Fatalf("completed %+v %+v", st.Counts, lc)
	}
	det, _ := tr.detail(7, at(40))
	if det.Tasks[src.id].NumAcked != 2 || det.Tasks[cnt.id].StateSize != 2020 || det.Tasks[cnt.id].LatestAck != at(31) {
		t.Errorf("detail %+v", det.Tasks)
	}
	// Checkpoint 8 fails; checkpoint 7 is subsumed later.
	tr.observe(event.Event{Kind: event.CheckpointTriggered, Time: at(100), CheckpointID: 8})
	tr.observe(event.Event{Kind: event.CheckpointFailed, Time: at(150), CheckpointID: 8, Cause: "Checkpoint expired before completing."})
	tr.observe(event.Event{Kind: event.CheckpointDiscarded, Time: at(160), CheckpointID: 7})
	st = tr.stats(at(200))
	if st.Counts.Failed != 1 || st.LatestFailed == nil || st.LatestFailed.FailureMessage != "Checkpoint expired before completing." ||
		st.LatestFailed.FailureTime != at(150) || !st.LatestCompleted.Discarded || st.History[0].ID != 8 || !st.History[1].Discarded {
		t.Errorf("after failure and subsumption: %+v", st)
	}
	// The history is bounded; counts are not.
	for id := int64(9); id < 30; id++ {
		tr.observe(event.Event{Kind: event.CheckpointTriggered, Time: at(int(id) * 100), CheckpointID: id})
		tr.observe(event.Event{Kind: event.CheckpointFailed, Time: at(int(id)*100 + 1), CheckpointID: id, Cause: "x"})
	}
	st = tr.stats(at(5000))
	if len(st.History) != historySize || st.Counts.Total != 23 || st.History[0].ID != 29 {
		t.Errorf("bounded history: %d entries, counts %+v, newest %d", len(st.History), st.Counts, st.History[0].ID)
	}
	if _, ok := tr.detail(7, at(5000)); ok {
		t.Error("a checkpoint that left the history has no detail any more (Flink: 404)")
	}
}

// TestExceptions: a job whose operator fails, restarts once and fails
// again ends FAILED; its exception history lists the failures newest first
// with the cause, and cancelling it is a conflict, as in Flink.
func TestExceptions(t *testing.T) {
	c, _ := newCluster(t)
	ctx := context.Background()
	id := submit(t, c, `name: failing
parallelism: 1
config:
  restart-strategy.type: fixed-delay
  restart-strategy.fixed-delay.attempts: 1
  restart-strategy.fixed-delay.delay: 10 ms
pipeline:
  - op: generator
    uid: source
    rate: 1000
  - op: fail
    after: 20
    attempts: 5
  - op: discard
`, cluster.RunRequest{})
	waitFor(t, "FAILED", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobFailed })
	x, err := c.Exceptions(ctx, id)
	if err != nil || len(x.Entries) < 2 {
		t.Fatalf("exceptions %+v %v", x, err)
	}
	for i, e := range x.Entries {
		if e.Message() == "" || e.Time.IsZero() {
			t.Errorf("entry %d: %+v", i, e)
		}
		if i > 0 && e.Time.After(x.Entries[i-1].Time) {
			t.Errorf("not newest first: %v after %v", e.Time, x.Entries[i-1].Time)
		}
	}
	if err := c.Cancel(ctx, id); !errors.Is(err, cluster.ErrConflict) || !strings.Contains(err.Error(), "FAILED") {
		t.Errorf("cancel of a FAILED job: %v", err)
	}
	j, _ := c.Job(ctx, id)
	if j.Vertices[0].Status != cluster.TaskFailed || j.End.IsZero() || j.Timestamps[cluster.JobRestarting].IsZero() {
		t.Errorf("failed job %+v", j)
	}
	ov, _ := c.Overview(ctx)
	if ov.JobsFailed != 1 {
		t.Errorf("overview %+v", ov)
	}
}

// TestSavepoints: savepoints in both formats into a directory or the
// configured default, cancel-with-savepoint, stop-with-savepoint (FINISHED,
// a SYNC_SAVEPOINT), and a resume from the stop savepoint — with the
// statistics Flink would show for each.
func TestSavepoints(t *testing.T) {
	c, dir := newCluster(t)
	ctx := context.Background()
	wait := func(t *testing.T, tr cluster.Trigger) *cluster.Operation {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		op, err := cluster.Wait(wctx, c, tr)
		if err != nil {
			t.Fatalf("%s %s: %v", tr.Kind, tr.ID, err)
		}
		return op
	}
	local := func(p string) string { return strings.TrimPrefix(p, "file://") }
	id := submit(t, c, countsSpec, cluster.RunRequest{})
	waitFor(t, "a checkpoint", func() bool { st, _ := c.Checkpoints(ctx, id); return st.Counts.Completed >= 1 })

	if _, err := c.TriggerSavepoint(ctx, id, cluster.SavepointRequest{}); !errors.Is(err, cluster.ErrBadRequest) ||
		!strings.Contains(err.Error(), "Property [target-directory] must be provided") {
		t.Errorf("no directory and no default: %v", err)
	}
	for _, f := range []cluster.SavepointFormat{cluster.Canonical, cluster.Native} {
		target := filepath.Join(dir, "sp-"+strings.ToLower(string(f)))
		tr, err := c.TriggerSavepoint(ctx, id, cluster.SavepointRequest{TargetDir: target, Format: f})
		if err != nil {
			t.Fatal(err)
		}
		loc := wait(t, tr).Location
		if filepath.Dir(local(loc)) != target || !strings.HasPrefix(filepath.Base(loc), "savepoint-"+id[:6]+"-") {
			t.Errorf("%s savepoint at %s", f, loc)
		}
		if _, err := os.Stat(filepath.Join(local(loc), "_metadata")); err != nil {
			t.Error(err)
		}
		st, _ := c.Checkpoints(ctx, id)
		sp := st.LatestSavepoint
		if sp == nil || !sp.Savepoint || sp.SavepointFormat != string(f) || sp.Type != cluster.TypeSavepoint || sp.ExternalPath != loc {
			t.Errorf("latest savepoint %+v, want %s at %s", sp, f, loc)
		}
	}

	// Stop with a savepoint: FINISHED, a SYNC_SAVEPOINT.
	tr, err := c.StopWithSavepoint(ctx, id, cluster.StopRequest{TargetDir: filepath.Join(dir, "stop")})
	if err != nil {
		t.Fatal(err)
	}
	stopped := wait(t, tr).Location
	j, _ := c.Job(ctx, id)
	st, _ := c.Checkpoints(ctx, id)
	if j.Status != cluster.JobFinished || st.LatestSavepoint.Type != cluster.TypeSyncSavepoint || st.LatestSavepoint.ExternalPath != stopped {
		t.Fatalf("after stop: %s, latest savepoint %+v", j.Status, st.LatestSavepoint)
	}
	if _, err := c.StopWithSavepoint(ctx, id, cluster.StopRequest{TargetDir: dir}); err != nil {
		t.Fatal(err) // accepted; fails as an operation (the job is not running)
	}

	// Resume from it, with the savepoint directory from the spec's
	// configuration; then cancel with a savepoint there.
	withDefault := strings.Replace(countsSpec, "config:\n", "config:\n  execution.checkpointing.savepoint-dir: "+filepath.Join(dir, "default")+"\n", 1)
	id2 := submit(t, c, withDefault, cluster.RunRequest{SavepointPath: stopped})
	waitFor(t, "a checkpoint after the resume", func() bool { st, _ := c.Checkpoints(ctx, id2); return st.Counts.Completed >= 1 })
	st2, _ := c.Checkpoints(ctx, id2)
	if r := st2.LatestRestored; r == nil || !r.Savepoint || r.ID != st.LatestSavepoint.ID || r.ExternalPath != stopped {
		t.Errorf("restored %+v, want savepoint %d at %s", r, st.LatestSavepoint.ID, stopped)
	}
	tr, err = c.TriggerSavepoint(ctx, id2, cluster.SavepointRequest{CancelJob: true})
	if err != nil {
		t.Fatal(err)
	}
	loc := wait(t, tr).Location
	if filepath.Dir(local(loc)) != filepath.Join(dir, "default") {
		t.Errorf("savepoint into the default directory: %s", loc)
	}
	waitFor(t, "CANCELED", func() bool { j, _ := c.Job(ctx, id2); return j.Status == cluster.JobCanceled })
}

// TestCatalog: with the engine's catalog, a restarted cluster still lists
// the jobs of the earlier process — ended ones with their status, one that
// was running when its process died as SUSPENDED — with their latest
// checkpoint and savepoint, read-only; and resumes from them.
func TestCatalog(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := config.New()
	cfg.Set(config.CheckpointDir, "file://"+filepath.Join(dir, "checkpoints"), "test")
	cfg.Set(config.Retention, "RETAIN_ON_CANCELLATION", "test")
	open := func() *catalog.Catalog {
		cat, err := catalog.Open(filepath.Join(dir, "catalog"))
		if err != nil {
			t.Fatal(err)
		}
		return cat
	}

	// First process: a job with checkpoints and a savepoint, cancelled at close.
	cat := open()
	c := New(Options{Config: cfg, Catalog: cat})
	id := submit(t, c, countsSpec, cluster.RunRequest{})
	waitFor(t, "a checkpoint", func() bool { st, _ := c.Checkpoints(ctx, id); return st.Counts.Completed >= 1 })
	tr, err := c.TriggerSavepoint(ctx, id, cluster.SavepointRequest{TargetDir: filepath.Join(dir, "sp")})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	op, err := cluster.Wait(wctx, c, tr)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	if err := c.Close(cctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	before, _ := c.Checkpoints(ctx, id)
	// A job of a process that died while it ran: its record still says RUNNING.
	const crashed = "0123456789abcdef0123456789abcdef"
	if err := cat.Put(catalog.Job{ID: crashed, Name: "counts", Status: "RUNNING", Start: time.Now().Add(-time.Hour), Spec: countsSpec,
		LatestCheckpoint: "/data/ckpt/" + crashed + "/chk-41", LatestCheckpointID: 41}); err != nil {
		t.Fatal(err)
	}
	cat.Close()

	// Second process.
	cat = open()
	defer cat.Close()
	c2 := New(Options{Config: cfg, Catalog: cat})
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		c2.Close(cctx)
	}()
	if c2.Remembered() != 2 {
		t.Fatalf("remembered %d jobs, want 2", c2.Remembered())
	}
	jobs, _ := c2.Jobs(ctx)
	status := map[string]cluster.JobStatus{}
	for _, j := range jobs {
		status[j.ID] = j.Status
	}
	if status[id] != cluster.JobCanceled || status[crashed] != cluster.JobSuspended {
		t.Fatalf("remembered jobs %+v", jobs)
	}
	j, err := c2.Job(ctx, id)
	if err != nil || len(j.Vertices) != 2 || j.Vertices[1].Operators[0].UID != "counter" || j.Vertices[0].Parallelism != 2 || j.End.IsZero() {
		t.Errorf("remembered detail %+v %v", j, err)
	}
	st, err := c2.Checkpoints(ctx, id)
	if err != nil || st.LatestCompleted == nil || st.LatestCompleted.ExternalPath != before.LatestCompleted.ExternalPath ||
		st.LatestCompleted.ID != before.LatestCompleted.ID || st.LatestSavepoint == nil || st.LatestSavepoint.ExternalPath != op.Location {
		t.Errorf("remembered statistics %+v %v; want checkpoint %+v and savepoint %s", st, err, before.LatestCompleted, op.Location)
	}
	if st, _ := c2.Checkpoints(ctx, crashed); st.LatestCompleted == nil || st.LatestCompleted.ID != 41 {
		t.Errorf("crashed job's statistics %+v", st)
	}
	if err := c2.Cancel(ctx, crashed); !errors.Is(err, cluster.ErrConflict) || !strings.Contains(err.Error(), "earlier ckpt process") {
		t.Errorf("cancel of a remembered job: %v", err)
	}
	if err := c2.Cancel(ctx, id); err != nil {
		t.Errorf("cancel of a remembered CANCELED job succeeds, as in Flink: %v", err)
	}
	if _, err := c2.TriggerSavepoint(ctx, id, cluster.SavepointRequest{TargetDir: dir}); !errors.Is(err, cluster.ErrConflict) {
		t.Errorf("savepoint of a remembered job: %v", err)
	}
	if ov, _ := c2.Overview(ctx); ov.JobsCancelled != 1 || ov.JobsRunning != 0 {
		t.Errorf("overview %+v", ov)
	}
	// Resume the remembered job from its savepoint; its ID stays taken.
	id2 := submit(t, c2, countsSpec, cluster.RunRequest{SavepointPath: op.Location})
	waitFor(t, "the resumed job's checkpoint", func() bool { st, _ := c2.Checkpoints(ctx, id2); return st.Counts.Completed >= 1 })
	a, _ := c2.UploadArtifact(ctx, "counts.yaml", strings.NewReader(countsSpec))
	if _, err := c2.RunArtifact(ctx, a.ID, cluster.RunRequest{JobID: id}); !errors.Is(err, cluster.ErrConflict) {
		t.Errorf("reusing a remembered job's ID: %v", err)
	}
	if jobs, _ := c2.Jobs(ctx); len(jobs) != 3 {
		t.Errorf("jobs %+v", jobs)
	}
}
