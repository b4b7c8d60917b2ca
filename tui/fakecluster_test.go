package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/storage"
)

// fakeCluster is a cluster.Cluster with fixed data for golden frames: a
// running job in the middle of checkpoint 48 (one vertex waiting on
// subtask 2, the sink on both subtasks), a failed checkpoint 45, a
// savepoint 40, restored from a savepoint; two finished jobs. It records
// the actions asked of it. Real adapters are tested against real Flink
// and the embedded engine elsewhere (and end to end below).
type fakeCluster struct {
	mu          sync.Mutex
	down        error  // every call fails with it (an unreachable target)
	version     string // flink-version (default 2.3.0; "ckpt-…" runs job specs)
	savepoints  []cluster.SavepointRequest
	stops       []cluster.StopRequest
	checkpoints []cluster.CheckpointRequest
	cancels     []string
	runs        []cluster.RunRequest
	uploads     []string
	// What ckpt serve reports beyond Flink (unset: as Flink).
	numRetained int
	ckptDir     string
	program     *cluster.Program
	// exceptions replace the default one (a connection reset) when set.
	exceptions []cluster.Exception
	// conf replaces the cluster configuration when set.
	conf map[string]string
	// pending: savepoints and stops never complete; stopFailure: a stop
	// completes with this failure.
	pending     bool
	stopFailure *cluster.Failure
}

var _ cluster.Cluster = (*fakeCluster)(nil)

const (
	fakeJobID    = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
	fakeNewJobID = "7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
	fakeV1       = "bc764cd8ddf7a0cff126f51c16239658"
	fakeV2       = "0a448493b4782967b150582570326227"
	fakeV3       = "ea632d67b7d595e5b851708ae9ad79d6"
	fakeJobDir   = "/data/flink/checkpoints/" + fakeJobID
	fakeSPDir    = "/data/flink/savepoints"
	fakeSP40     = fakeSPDir + "/savepoint-3f2a1b-0c9d8e7f6a5b"
	fakeSPNew    = fakeSPDir + "/savepoint-3f2a1b-9f8e7d6c5b4a"
	fakeSPFrom   = fakeSPDir + "/savepoint-3f2a1b-11aa22bb33cc"
)

func (f *fakeCluster) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *fakeCluster) Overview(ctx context.Context) (*cluster.Overview, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	v := f.version
	if v == "" {
		v = "2.3.0"
	}
	return &cluster.Overview{Version: v, TaskManagers: 2, SlotsTotal: 16, SlotsAvailable: 8, JobsRunning: 1, JobsFinished: 1, JobsCancelled: 1}, nil
}

func (f *fakeCluster) Info(ctx context.Context) (*cluster.Info, error) {
	return &cluster.Info{RefreshInterval: 3 * time.Second, Version: "2.3.0"}, f.err()
}

func (f *fakeCluster) Configuration(ctx context.Context) (map[string]string, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	if f.conf != nil {
		return f.conf, nil
	}
	return map[string]string{"execution.checkpointing.savepoint-dir": fakeSPDir, "execution.checkpointing.num-retained": "3"}, nil
}

func (f *fakeCluster) Jobs(ctx context.Context) ([]cluster.JobSummary, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return []cluster.JobSummary{
		{ID: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", Name: "nightly-backfill", Status: cluster.JobFinished, Start: testNow.Add(-26 * time.Hour),
			End: testNow.Add(-25 * time.Hour), Duration: time.Hour, Tasks: map[string]int{cluster.TaskFinished: 4, "TOTAL": 4}},
		{ID: fakeJobID, Name: "orders-enrichment", Status: cluster.JobRunning, Start: testNow.Add(-72 * time.Minute), Duration: 72 * time.Minute,
			Tasks: map[string]int{cluster.TaskRunning: 8, "TOTAL": 8}},
		{ID: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", Name: "orders-enrichment", Status: cluster.JobCanceled, Start: testNow.Add(-3 * time.Hour),
			End: testNow.Add(-72*time.Minute - 10*time.Second), Duration: 108 * time.Minute, Tasks: map[string]int{cluster.TaskCanceled: 8, "TOTAL": 8}},
	}, nil
}

func (f *fakeCluster) Job(ctx context.Context, jobID string) (*cluster.Job, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	if jobID != fakeJobID && jobID != fakeNewJobID {
		return nil, cluster.JobNotFound(jobID)
	}
	start := testNow.Add(-72 * time.Minute)
	v := func(id, name string, p int, in, out int64, bp time.Duration) cluster.Vertex {
		return cluster.Vertex{ID: id, Name: name, Parallelism: p, MaxParallelism: 128, Status: cluster.TaskRunning, Start: start,
			Duration: 72 * time.Minute, Tasks: map[string]int{cluster.TaskRunning: p},
			Metrics: cluster.VertexMetrics{ReadRecords: in, WriteRecords: out, ReadRecordsComplete: true, WriteRecordsComplete: true, Backpressured: bp}}
	}
	j := &cluster.Job{ID: jobID, Name: "orders-enrichment", Status: cluster.JobRunning, Stoppable: true, Type: "STREAMING",
		Start: start, Duration: 72 * time.Minute, Now: testNow, MaxParallelism: -1,
		Vertices: []cluster.Vertex{
			v(fakeV1, "Source: orders", 2, 0, 1234567, 0),
			v(fakeV2, "enrich -> count-per-key", 4, 1234000, 1200000, 350*time.Millisecond),
			v(fakeV3, "Sink: committed-files", 2, 1200000, 0, 0),
		}, StatusCounts: map[string]int{cluster.TaskRunning: 3}, Program: f.program}
	if strings.HasPrefix(f.version, "ckpt") {
		// ckpt serve names each vertex's chain (ckpt_operators); enrich
		// has no uid.
		ops := [][]cluster.Operator{
			{{ID: fakeV1, UID: "orders-source", Name: "orders"}},
			{{ID: fakeV2, Name: "enrich"}, {ID: "6681abd01de9870ff34ae1748aeef231", UID: "count-per-key", Name: "count-per-key"}},
			{{ID: fakeV3, UID: "committed-files", Name: "committed-files"}},
		}
		for i := range j.Vertices {
			j.Vertices[i].Operators = ops[i]
		}
	}
	return j, nil
}

func (f *fakeCluster) Exceptions(ctx context.Context, jobID string) (*cluster.Exceptions, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	if f.exceptions != nil {
		return &cluster.Exceptions{Entries: f.exceptions}, nil
	}
	return &cluster.Exceptions{Entries: []cluster.Exception{{Name: "java.io.IOException", Time: testNow.Add(-25 * time.Minute),
		TaskName:   "enrich -> count-per-key (3/4)",
		StackTrace: "java.io.IOException: Connection reset by peer\n\tat org.example.Enrich.lookup(Enrich.java:42)"}}}, nil
}

// fakeHistory is checkpoints 48 (in progress) down to 39, newest first.
func fakeHistory() []cluster.Checkpoint {
	var h []cluster.Checkpoint
	for id := int64(48); id >= 39; id-- {
		trig := testNow.Add(-time.Duration(48-id)*10*time.Second - 4*time.Second)
		c := cluster.Checkpoint{ID: id, Status: cluster.CheckpointCompleted, Type: cluster.TypeCheckpoint, TriggerTime: trig,
			LatestAck: trig.Add(1200 * time.Millisecond), EndToEnd: 1200 * time.Millisecond, NumSubtasks: 8, NumAcked: 8,
			CheckpointedSize: 2<<20 + (id-39)*40<<10, StateSize: 40<<20 + (id-39)*512<<10,
			ExternalPath: fmt.Sprintf("%s/chk-%d", fakeJobDir, id), Discarded: id < 45}
		switch id {
		case 48:
			c.Status, c.NumAcked, c.LatestAck, c.EndToEnd, c.ExternalPath, c.CheckpointedSize, c.StateSize = cluster.CheckpointInProgress, 5, trig.Add(900*time.Millisecond), 0, "", 1<<20, 20<<20
		case 45:
			c.Status, c.NumAcked, c.ExternalPath, c.FailureTime = cluster.CheckpointFailed, 6, "", trig.Add(10*time.Minute)
			c.FailureMessage = "Checkpoint expired before completing."
			c.FailureTime = testNow.Add(-40 * time.Second)
		case 40:
			c.Savepoint, c.SavepointFormat, c.Type, c.ExternalPath, c.Discarded = true, "CANONICAL", cluster.TypeSavepoint, fakeSP40, false
		}
		h = append(h, c)
	}
	return h
}

func (f *fakeCluster) Checkpoints(ctx context.Context, jobID string) (*cluster.CheckpointStats, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	h := fakeHistory()
	stat := func(min, avg, max int64) cluster.Stat { return cluster.Stat{Min: min, Avg: avg, Max: max} }
	return &cluster.CheckpointStats{
		Counts:          cluster.CheckpointCounts{Restored: 1, Total: 48, InProgress: 1, Completed: 45, Failed: 2},
		Summary:         cluster.CheckpointSummary{EndToEndDuration: stat(800, 1200, 4100), CheckpointedSize: stat(1<<20, 2<<20, 3<<20), StateSize: stat(30<<20, 42<<20, 44<<20)},
		LatestCompleted: &h[1], LatestSavepoint: &h[8], LatestFailed: &h[3],
		LatestRestored: &cluster.RestoredCheckpoint{ID: 12, RestoreTime: testNow.Add(-72 * time.Minute), Savepoint: true, ExternalPath: fakeSPFrom},
		History:        h,
	}, nil
}

func (f *fakeCluster) CheckpointConfig(ctx context.Context, jobID string) (*cluster.CheckpointConfig, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return &cluster.CheckpointConfig{Mode: "EXACTLY_ONCE", Interval: 10 * time.Second, Timeout: 10 * time.Minute, MaxConcurrent: 1,
		Retention: cluster.RetainOnCancellation, StateBackend: "EmbeddedRocksDBStateBackend", CheckpointStorage: "FileSystemCheckpointStorage",
		TolerableFailures: 3, NumRetained: f.numRetained, CheckpointDir: f.ckptDir}, nil
}

func (f *fakeCluster) CheckpointDetail(ctx context.Context, jobID string, id int64) (*cluster.Checkpoint, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	for _, c := range fakeHistory() {
		if c.ID != id {
			continue
		}
		acked := map[string]int{fakeV1: 2, fakeV2: 4, fakeV3: 2}
		if c.Status == cluster.CheckpointInProgress {
			acked = map[string]int{fakeV1: 2, fakeV2: 3, fakeV3: 0}
		}
		c.Tasks = map[string]cluster.TaskCheckpoint{}
		for vid, n := range map[string]int{fakeV1: 2, fakeV2: 4, fakeV3: 2} {
			tc := cluster.TaskCheckpoint{ID: id, Status: c.Status, NumSubtasks: n, NumAcked: acked[vid]}
			if acked[vid] > 0 {
				tc.LatestAck, tc.EndToEnd = c.TriggerTime.Add(time.Duration(acked[vid])*200*time.Millisecond), time.Duration(acked[vid])*200*time.Millisecond
				tc.CheckpointedSize, tc.StateSize = c.CheckpointedSize/3, c.StateSize/3
			}
			c.Tasks[vid] = tc
		}
		return &c, nil
	}
	return nil, cluster.Errorf(cluster.ErrNotFound, "Could not find checkpointing statistics for checkpoint %d.", id)
}

func (f *fakeCluster) CheckpointSubtasks(ctx context.Context, jobID string, id int64, vertexID string) (*cluster.VertexCheckpoint, error) {
	d, err := f.CheckpointDetail(ctx, jobID, id)
	if err != nil {
		return nil, err
	}
	t, ok := d.Tasks[vertexID]
	if !ok {
		return nil, cluster.Errorf(cluster.ErrNotFound, "There is no vertex %s in job %s.", vertexID, jobID)
	}
	vc := &cluster.VertexCheckpoint{TaskCheckpoint: t}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for i := 0; i < t.NumSubtasks; i++ {
		st := cluster.SubtaskCheckpoint{Index: i}
		pending := d.Status == cluster.CheckpointInProgress && ((vertexID == fakeV2 && i == 2) || vertexID == fakeV3)
		if !pending {
			st.Acknowledged = true
			st.AckTime = d.TriggerTime.Add(ms(300 + 100*i))
			st.EndToEnd, st.Sync, st.Async, st.AlignmentDuration, st.StartDelay = ms(300+100*i), ms(12+i), ms(180+90*i), ms(40), ms(25+10*i)
			st.CheckpointedSize, st.StateSize = 256<<10, 10<<20
		}
		vc.Subtasks = append(vc.Subtasks, st)
	}
	vc.Summary.EndToEnd = cluster.Stat{Max: 600}
	vc.Summary.Sync = cluster.Stat{Max: 15}
	vc.Summary.Async = cluster.Stat{Max: 450}
	vc.Summary.AlignmentDuration = cluster.Stat{Max: 40}
	vc.Summary.StartDelay = cluster.Stat{Max: 55}
	return vc, nil
}

func (f *fakeCluster) TriggerCheckpoint(ctx context.Context, jobID string, req cluster.CheckpointRequest) (cluster.Trigger, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkpoints = append(f.checkpoints, req)
	return cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: jobID, ID: "cp-1"}, nil
}

func (f *fakeCluster) TriggerSavepoint(ctx context.Context, jobID string, req cluster.SavepointRequest) (cluster.Trigger, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.savepoints = append(f.savepoints, req)
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: "sp-1"}, nil
}

func (f *fakeCluster) StopWithSavepoint(ctx context.Context, jobID string, req cluster.StopRequest) (cluster.Trigger, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, req)
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: "stop-1"}, nil
}

func (f *fakeCluster) DisposeSavepoint(ctx context.Context, path string) (cluster.Trigger, error) {
	return cluster.Trigger{}, &cluster.Error{Kind: cluster.ErrNotSupported, Message: "disposal is not supported by this fake"}
}

func (f *fakeCluster) Poll(ctx context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	switch t.Kind {
	case cluster.CheckpointTrigger:
		return &cluster.Operation{Status: cluster.Completed, CheckpointID: 49}, nil
	case cluster.SavepointTrigger:
		switch {
		case f.pending:
			return &cluster.Operation{Status: cluster.InProgress}, nil
		case f.stopFailure != nil && t.ID == "stop-1":
			return &cluster.Operation{Status: cluster.Completed, Failure: f.stopFailure}, nil
		}
		return &cluster.Operation{Status: cluster.Completed, Location: fakeSPNew}, nil
	}
	return nil, cluster.Errorf(cluster.ErrNotFound, "unknown trigger")
}

func (f *fakeCluster) Cancel(ctx context.Context, jobID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, jobID)
	return nil
}

func (f *fakeCluster) UploadArtifact(ctx context.Context, filename string, content io.Reader) (*cluster.Artifact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, filename)
	return &cluster.Artifact{ID: "a1_" + filename, Name: filename}, nil
}

func (f *fakeCluster) Artifacts(ctx context.Context) ([]cluster.Artifact, error) { return nil, nil }

func (f *fakeCluster) RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, req)
	return fakeNewJobID, nil
}

func (f *fakeCluster) DeleteArtifact(ctx context.Context, id string) error { return nil }

// fakeStorage lays out the fake job's snapshots on local disk, served
// under /data: chk-46 and chk-47 complete (real Flink _metadata), chk-48
// without _metadata (in progress), the savepoints 40 and the restored one.
func fakeStorage(t testing.TB) storage.FS {
	dir := t.TempDir()
	fx := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixturesDir(t), "apache-flink", name, "_metadata"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ck := fx("new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint")
	sp := fx("new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint")
	job := filepath.Join(dir, "flink", "checkpoints", fakeJobID)
	files := []struct {
		path string
		data []byte
		age  time.Duration
	}{
		{filepath.Join(job, "chk-46", "_metadata"), ck, 18 * time.Second},
		{filepath.Join(job, "chk-46", "MANIFEST-000004"), make([]byte, 4096), 18 * time.Second},
		{filepath.Join(job, "chk-47", "_metadata"), ck, 8 * time.Second},
		{filepath.Join(job, "chk-47", "MANIFEST-000004"), make([]byte, 8192), 8 * time.Second},
		{filepath.Join(job, "chk-48", "OPTIONS-000009"), make([]byte, 2048), 3 * time.Second},
		{filepath.Join(job, "shared", "0b6a9c1e-000010.sst"), make([]byte, 96<<10), 30 * time.Second},
		{filepath.Join(dir, "flink", "savepoints", "savepoint-3f2a1b-0c9d8e7f6a5b", "_metadata"), sp, 84 * time.Second},
		{filepath.Join(dir, "flink", "savepoints", "savepoint-3f2a1b-11aa22bb33cc", "_metadata"), sp, 2 * time.Hour},
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		at := testNow.Add(-f.age)
		os.Chtimes(f.path, at, at)
		os.Chtimes(filepath.Dir(f.path), at, at)
	}
	return prefixFS{FS: storage.NewLocal(), prefix: "/data", root: dir}
}
