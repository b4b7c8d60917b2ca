package embedded

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/storage"
)

// What the control plane says of a job's checkpointing is the job's own:
// num-retained and the checkpoint directory come from the job's resolved
// configuration (cluster < spec < submission), not from the cluster's.
func TestCheckpointConfigIsPerJob(t *testing.T) {
	c, dir := newCluster(t) // cluster: num-retained 2
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want int
	}{
		{"cluster default", nil, 2},
		{"set by the submission", map[string]string{"execution.checkpointing.num-retained": "5"}, 5},
		{"1.x key", map[string]string{"state.checkpoints.num-retained": "3"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := submit(t, c, countsSpec, cluster.RunRequest{Config: tc.cfg})
			defer c.Cancel(ctx, id)
			cc, err := c.CheckpointConfig(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if cc.NumRetained != tc.want {
				t.Errorf("num-retained %d, want %d", cc.NumRetained, tc.want)
			}
			wantDir := storage.Join("file://"+filepath.Join(dir, "checkpoints"), id)
			if cc.CheckpointDir != wantDir {
				t.Errorf("checkpoint dir %q, want %q", cc.CheckpointDir, wantDir)
			}
			// The chk-N directories the statistics name live there.
			waitFor(t, "a completed checkpoint", func() bool { st, _ := c.Checkpoints(ctx, id); return st.LatestCompleted != nil })
			st, _ := c.Checkpoints(ctx, id)
			if got := storage.Dir(st.LatestCompleted.ExternalPath); got != cc.CheckpointDir {
				t.Errorf("latest checkpoint %s is not in the reported dir %s", st.LatestCompleted.ExternalPath, cc.CheckpointDir)
			}
		})
	}
}

// A job knows the spec it was started from: uploaded (with the upload's
// id and name) or submitted directly, and — from the catalog — the jobs of
// an earlier process.
func TestJobProgram(t *testing.T) {
	c, _ := newCluster(t)
	ctx := context.Background()
	a, err := c.UploadArtifact(ctx, "counts.yaml", strings.NewReader(countsSpec))
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.RunArtifact(ctx, a.ID, cluster.RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Cancel(ctx, up)
	direct, err := c.SubmitSpec(ctx, "jobs/counts.yaml", []byte(countsSpec), cluster.RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Cancel(ctx, direct)
	for _, tc := range []struct {
		id   string
		want cluster.Program
	}{
		{up, cluster.Program{Name: "counts.yaml", ArtifactID: a.ID, Spec: countsSpec}},
		{direct, cluster.Program{Name: "jobs/counts.yaml", Spec: countsSpec}},
	} {
		j, err := c.Job(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Program == nil || *j.Program != tc.want {
			t.Errorf("job %s: program %+v, want %+v", tc.id, j.Program, tc.want)
		}
	}
}

// Subsumed checkpoints are marked discarded in the history, as Flink marks
// them; the retained ones are not, until the job's end deletes them by its
// retention policy. A job of an earlier process (from the catalog) reports
// its latest checkpoint discarded when its end deleted it.
func TestDiscardedCheckpoints(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := config.New()
	cfg.Set(config.CheckpointDir, "file://"+filepath.Join(dir, "checkpoints"), "test")
	cfg.Set(config.NumRetained, "2", "test")
	cat, err := catalog.Open(filepath.Join(dir, "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Config: cfg, Catalog: cat})
	bounded := strings.Replace(countsSpec, "rate: 2000", "rate: 4000\n    limit: 4000", 1)
	type result struct {
		id        string
		retention string
		end       func(id string)
		discarded bool // the latest checkpoint, after the end
	}
	cancel := func(id string) {
		c.Cancel(ctx, id)
		waitFor(t, "CANCELED", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobCanceled })
	}
	finish := func(id string) {
		waitFor(t, "FINISHED", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobFinished })
	}
	runs := []*result{
		{retention: "RETAIN_ON_CANCELLATION", end: cancel, discarded: false},
		{retention: "DELETE_ON_CANCELLATION", end: cancel, discarded: true},
		{retention: "RETAIN_ON_CANCELLATION", end: finish, discarded: true},
	}
	for _, r := range runs {
		spec := countsSpec
		if r.discarded && r.retention == "RETAIN_ON_CANCELLATION" {
			spec = bounded
		}
		r.id = submit(t, c, spec, cluster.RunRequest{Config: map[string]string{config.Retention: r.retention}})
	}
	for _, r := range runs {
		waitFor(t, "four completed checkpoints", func() bool { st, _ := c.Checkpoints(ctx, r.id); return st.Counts.Completed >= 4 })
		// While it runs: everything but the two newest completed is discarded.
		j, _ := c.Job(ctx, r.id)
		running := !j.Status.Terminal()
		st, _ := c.Checkpoints(ctx, r.id)
		if st.LatestCompleted == nil {
			t.Fatal("no latest completed checkpoint")
		}
		var completed []cluster.Checkpoint
		for _, h := range st.History {
			if h.Status == cluster.CheckpointCompleted && !h.Savepoint {
				completed = append(completed, h)
			}
		}
		for i, h := range completed { // newest first
			// A checkpoint completing right now may not have subsumed its
			// predecessor yet: only the order matters.
			if i >= 3 && !h.Discarded {
				t.Errorf("job %s: checkpoint %d is the %d. newest of num-retained 2 but not discarded", r.id, h.ID, i+1)
			}
			if i == 0 && h.Discarded && running {
				t.Errorf("job %s: the newest checkpoint %d is marked discarded", r.id, h.ID)
			}
		}
		r.end(r.id)
		st, _ = c.Checkpoints(ctx, r.id)
		if got := st.LatestCompleted.Discarded; got != r.discarded {
			t.Errorf("job %s (%s) ended: latest checkpoint discarded=%v, want %v", r.id, r.retention, got, r.discarded)
		}
		if _, err := storage.Default().Stat(ctx, st.LatestCompleted.ExternalPath); (err != nil) != r.discarded {
			t.Errorf("job %s: latest checkpoint %s on disk: %v, but discarded=%v", r.id, st.LatestCompleted.ExternalPath, err, r.discarded)
		}
	}
	cctx, stop := context.WithTimeout(ctx, time.Minute)
	c.Close(cctx)
	stop()
	cat.Close()

	// Another process reads the same catalog.
	cat, err = catalog.Open(filepath.Join(dir, "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	c2 := New(Options{Config: cfg, Catalog: cat})
	defer func() { cctx, stop := context.WithTimeout(ctx, time.Minute); c2.Close(cctx); stop() }()
	for _, r := range runs {
		st, err := c2.Checkpoints(ctx, r.id)
		if err != nil || st.LatestCompleted == nil {
			t.Fatalf("job %s from the catalog: %+v %v", r.id, st, err)
		}
		if st.LatestCompleted.Discarded != r.discarded {
			t.Errorf("job %s from the catalog: latest checkpoint discarded=%v, want %v", r.id, st.LatestCompleted.Discarded, r.discarded)
		}
		j, err := c2.Job(ctx, r.id)
		if err != nil || j.Program == nil || !strings.Contains(j.Program.Spec, "op: generator") {
			t.Errorf("job %s from the catalog: program %+v (%v)", r.id, j.Program, err)
		}
	}
}

// The tracker carries each task's start delay and alignment into the
// subtask statistics and the vertex summary.
func TestTrackerStartDelayAndAlignment(t *testing.T) {
	tr := countsTracker(t)
	cnt := tr.chains[1] // count -> discard, two inputs
	t0 := time.UnixMilli(1_700_000_000_000)
	tr.observe(event.Event{Kind: event.CheckpointTriggered, Time: t0, CheckpointID: 3})
	ack := func(op *graph.Vertex, sub int, delay, align time.Duration) {
		tr.observe(event.Event{Kind: event.SubtaskAcknowledged, Time: t0.Add(50 * time.Millisecond), CheckpointID: 3,
			OperatorID: op.ID.String(), Subtask: sub, StartDelay: delay, Alignment: align})
	}
	for _, op := range cnt.ops {
		ack(op, 0, 7*time.Millisecond, 12*time.Millisecond)
		ack(op, 1, 3*time.Millisecond, 30*time.Millisecond)
	}
	v, _, _ := tr.subtasks(3, cnt.id)
	if v.Subtasks[0].StartDelay != 7*time.Millisecond || v.Subtasks[1].StartDelay != 3*time.Millisecond ||
		v.Subtasks[0].AlignmentDuration != 12*time.Millisecond || v.Subtasks[1].AlignmentDuration != 30*time.Millisecond {
		t.Errorf("subtasks %+v", v.Subtasks)
	}
	if d, a := v.Summary.StartDelay, v.Summary.AlignmentDuration; d.Min != 3 || d.Max != 7 || d.Avg != 5 || a.Min != 12 || a.Max != 30 {
		t.Errorf("summary start delay %+v, alignment %+v", d, a)
	}
}
