package tuitest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// FakeCluster is a cluster.Cluster with fixed data for golden frames: a
// running job in the middle of checkpoint 48 (one vertex waiting on
// subtask 2, the sink on both subtasks), a failed checkpoint 45, a
// savepoint 40, restored from a savepoint; two finished jobs. It records
// the actions asked of it. Real adapters are tested against real Flink
// and the embedded engine elsewhere (and end to end below).
type FakeCluster struct {
	Mu                 sync.Mutex
	Down               error  // every call fails with it (an unreachable target)
	Version            string // flink-version (default 2.3.0; "ckpt-…" runs job specs)
	Savepoints         []cluster.SavepointRequest
	Stops              []cluster.StopRequest
	CheckpointRequests []cluster.CheckpointRequest
	Cancels            []string
	Runs               []cluster.RunRequest
	Uploads            []string
	// What ckpt serve reports beyond Flink (unset: as Flink).
	NumRetained int
	CkptDir     string
	Program     *cluster.Program
	// JobExceptions replace the default one (a connection reset) when set.
	JobExceptions []cluster.Exception
	// Conf replaces the cluster configuration when set.
	Conf map[string]string
	// Pending: savepoints and stops never complete; StopFailure: a stop
	// completes with this failure.
	Pending     bool
	StopFailure *cluster.Failure
}

var _ cluster.Cluster = (*FakeCluster)(nil)

const (
	FakeJobID    = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
	FakeNewJobID = "7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
	FakeV1       = "bc764cd8ddf7a0cff126f51c16239658"
	FakeV2       = "0a448493b4782967b150582570326227"
	FakeV3       = "ea632d67b7d595e5b851708ae9ad79d6"
	FakeJobDir   = "/data/flink/checkpoints/" + FakeJobID
	FakeSPDir    = "/data/flink/savepoints"
	FakeSP40     = FakeSPDir + "/savepoint-3f2a1b-0c9d8e7f6a5b"
	FakeSPNew    = FakeSPDir + "/savepoint-3f2a1b-9f8e7d6c5b4a"
	FakeSPFrom   = FakeSPDir + "/savepoint-3f2a1b-11aa22bb33cc"
)

func (f *FakeCluster) err() error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return f.Down
}

func (f *FakeCluster) Overview(ctx context.Context) (*cluster.Overview, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	v := f.Version
	if v == "" {
		v = "2.3.0"
	}
	return &cluster.Overview{Version: v, TaskManagers: 2, SlotsTotal: 16, SlotsAvailable: 8, JobsRunning: 1, JobsFinished: 1, JobsCancelled: 1}, nil
}

func (f *FakeCluster) Info(ctx context.Context) (*cluster.Info, error) {
	return &cluster.Info{RefreshInterval: 3 * time.Second, Version: "2.3.0"}, f.err()
}

func (f *FakeCluster) Configuration(ctx context.Context) (map[string]string, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	if f.Conf != nil {
		return f.Conf, nil
	}
	return map[string]string{"execution.checkpointing.savepoint-dir": FakeSPDir, "execution.checkpointing.num-retained": "3"}, nil
}

func (f *FakeCluster) Jobs(ctx context.Context) ([]cluster.JobSummary, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return []cluster.JobSummary{
		{ID: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", Name: "nightly-backfill", Status: cluster.JobFinished, Start: Now.Add(-26 * time.Hour),
			End: Now.Add(-25 * time.Hour), Duration: time.Hour, Tasks: map[string]int{cluster.TaskFinished: 4, "TOTAL": 4}},
		{ID: FakeJobID, Name: "orders-enrichment", Status: cluster.JobRunning, Start: Now.Add(-72 * time.Minute), Duration: 72 * time.Minute,
			Tasks: map[string]int{cluster.TaskRunning: 8, "TOTAL": 8}},
		{ID: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", Name: "orders-enrichment", Status: cluster.JobCanceled, Start: Now.Add(-3 * time.Hour),
			End: Now.Add(-72*time.Minute - 10*time.Second), Duration: 108 * time.Minute, Tasks: map[string]int{cluster.TaskCanceled: 8, "TOTAL": 8}},
	}, nil
}

func (f *FakeCluster) Job(ctx context.Context, jobID string) (*cluster.Job, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	if jobID != FakeJobID && jobID != FakeNewJobID {
		return nil, cluster.JobNotFound(jobID)
	}
	start := Now.Add(-72 * time.Minute)
	v := func(id, name string, p int, in, out int64, bp time.Duration) cluster.Vertex {
		return cluster.Vertex{ID: id, Name: name, Parallelism: p, MaxParallelism: 128, Status: cluster.TaskRunning, Start: start,
			Duration: 72 * time.Minute, Tasks: map[string]int{cluster.TaskRunning: p},
			Metrics: cluster.VertexMetrics{ReadRecords: in, WriteRecords: out, ReadRecordsComplete: true, WriteRecordsComplete: true, Backpressured: bp}}
	}
	j := &cluster.Job{ID: jobID, Name: "orders-enrichment", Status: cluster.JobRunning, Stoppable: true, Type: "STREAMING",
		Start: start, Duration: 72 * time.Minute, Now: Now, MaxParallelism: -1,
		Vertices: []cluster.Vertex{
			v(FakeV1, "Source: orders", 2, 0, 1234567, 0),
			v(FakeV2, "enrich -> count-per-key", 4, 1234000, 1200000, 350*time.Millisecond),
			v(FakeV3, "Sink: committed-files", 2, 1200000, 0, 0),
		}, StatusCounts: map[string]int{cluster.TaskRunning: 3}, Program: f.Program}
	if strings.HasPrefix(f.Version, "ckpt") {
		// ckpt serve names each vertex's chain (ckpt_operators); enrich
		// has no uid.
		ops := [][]cluster.Operator{
			{{ID: FakeV1, UID: "orders-source", Name: "orders"}},
			{{ID: FakeV2, Name: "enrich"}, {ID: "6681abd01de9870ff34ae1748aeef231", UID: "count-per-key", Name: "count-per-key"}},
			{{ID: FakeV3, UID: "committed-files", Name: "committed-files"}},
		}
		for i := range j.Vertices {
			j.Vertices[i].Operators = ops[i]
		}
	}
	return j, nil
}

// Backpressure is Flink's per-vertex backpressure: enrich pushes back on
// the source at times (low), the rest flows.
func (f *FakeCluster) Backpressure(ctx context.Context, jobID, vertexID string) (*cluster.Backpressure, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	bp := &cluster.Backpressure{Status: "ok", Level: cluster.BackpressureOK, End: Now}
	if vertexID == FakeV1 {
		bp.Level, bp.Ratio = cluster.BackpressureLow, 0.23
	}
	return bp, nil
}

func (f *FakeCluster) Exceptions(ctx context.Context, jobID string) (*cluster.Exceptions, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	if f.JobExceptions != nil {
		return &cluster.Exceptions{Entries: f.JobExceptions}, nil
	}
	return &cluster.Exceptions{Entries: []cluster.Exception{{Name: "java.io.IOException", Time: Now.Add(-25 * time.Minute),
		TaskName:   "enrich -> count-per-key (3/4)",
		StackTrace: "java.io.IOException: Connection reset by peer\n\tat org.example.Enrich.lookup(Enrich.java:42)"}}}, nil
}

// FakeHistory is checkpoints 48 (in progress) down to 39, newest first.
func FakeHistory() []cluster.Checkpoint {
	var h []cluster.Checkpoint
	for id := int64(48); id >= 39; id-- {
		trig := Now.Add(-time.Duration(48-id)*10*time.Second - 4*time.Second)
		c := cluster.Checkpoint{ID: id, Status: cluster.CheckpointCompleted, Type: cluster.TypeCheckpoint, TriggerTime: trig,
			LatestAck: trig.Add(1200 * time.Millisecond), EndToEnd: 1200 * time.Millisecond, NumSubtasks: 8, NumAcked: 8,
			CheckpointedSize: 2<<20 + (id-39)*40<<10, StateSize: 40<<20 + (id-39)*512<<10,
			ExternalPath: fmt.Sprintf("%s/chk-%d", FakeJobDir, id), Discarded: id < 45}
		switch id {
		case 48:
			c.Status, c.NumAcked, c.LatestAck, c.EndToEnd, c.ExternalPath, c.CheckpointedSize, c.StateSize = cluster.CheckpointInProgress, 5, trig.Add(900*time.Millisecond), 0, "", 1<<20, 20<<20
		case 45:
			c.Status, c.NumAcked, c.ExternalPath, c.FailureTime = cluster.CheckpointFailed, 6, "", trig.Add(10*time.Minute)
			c.FailureMessage = "Checkpoint expired before completing."
			c.FailureTime = Now.Add(-40 * time.Second)
		case 40:
			c.Savepoint, c.SavepointFormat, c.Type, c.ExternalPath, c.Discarded = true, "CANONICAL", cluster.TypeSavepoint, FakeSP40, false
		}
		h = append(h, c)
	}
	return h
}

func (f *FakeCluster) Checkpoints(ctx context.Context, jobID string) (*cluster.CheckpointStats, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	h := FakeHistory()
	stat := func(min, avg, max int64) cluster.Stat { return cluster.Stat{Min: min, Avg: avg, Max: max} }
	return &cluster.CheckpointStats{
		Counts:          cluster.CheckpointCounts{Restored: 1, Total: 48, InProgress: 1, Completed: 45, Failed: 2},
		Summary:         cluster.CheckpointSummary{EndToEndDuration: stat(800, 1200, 4100), CheckpointedSize: stat(1<<20, 2<<20, 3<<20), StateSize: stat(30<<20, 42<<20, 44<<20)},
		LatestCompleted: &h[1], LatestSavepoint: &h[8], LatestFailed: &h[3],
		LatestRestored: &cluster.RestoredCheckpoint{ID: 12, RestoreTime: Now.Add(-72 * time.Minute), Savepoint: true, ExternalPath: FakeSPFrom},
		History:        h,
	}, nil
}

func (f *FakeCluster) CheckpointConfig(ctx context.Context, jobID string) (*cluster.CheckpointConfig, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return &cluster.CheckpointConfig{Mode: "EXACTLY_ONCE", Interval: 10 * time.Second, Timeout: 10 * time.Minute, MaxConcurrent: 1,
		Retention: cluster.RetainOnCancellation, StateBackend: "EmbeddedRocksDBStateBackend", CheckpointStorage: "FileSystemCheckpointStorage",
		TolerableFailures: 3, NumRetained: f.NumRetained, CheckpointDir: f.CkptDir}, nil
}

func (f *FakeCluster) CheckpointDetail(ctx context.Context, jobID string, id int64) (*cluster.Checkpoint, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	for _, c := range FakeHistory() {
		if c.ID != id {
			continue
		}
		acked := map[string]int{FakeV1: 2, FakeV2: 4, FakeV3: 2}
		if c.Status == cluster.CheckpointInProgress {
			acked = map[string]int{FakeV1: 2, FakeV2: 3, FakeV3: 0}
		}
		c.Tasks = map[string]cluster.TaskCheckpoint{}
		for vid, n := range map[string]int{FakeV1: 2, FakeV2: 4, FakeV3: 2} {
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

func (f *FakeCluster) CheckpointSubtasks(ctx context.Context, jobID string, id int64, vertexID string) (*cluster.VertexCheckpoint, error) {
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
		pending := d.Status == cluster.CheckpointInProgress && ((vertexID == FakeV2 && i == 2) || vertexID == FakeV3)
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

func (f *FakeCluster) TriggerCheckpoint(ctx context.Context, jobID string, req cluster.CheckpointRequest) (cluster.Trigger, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.CheckpointRequests = append(f.CheckpointRequests, req)
	return cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: jobID, ID: "cp-1"}, nil
}

func (f *FakeCluster) TriggerSavepoint(ctx context.Context, jobID string, req cluster.SavepointRequest) (cluster.Trigger, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Savepoints = append(f.Savepoints, req)
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: "sp-1"}, nil
}

func (f *FakeCluster) StopWithSavepoint(ctx context.Context, jobID string, req cluster.StopRequest) (cluster.Trigger, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Stops = append(f.Stops, req)
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: "stop-1"}, nil
}

func (f *FakeCluster) DisposeSavepoint(ctx context.Context, path string) (cluster.Trigger, error) {
	return cluster.Trigger{}, &cluster.Error{Kind: cluster.ErrNotSupported, Message: "disposal is not supported by this fake"}
}

func (f *FakeCluster) Poll(ctx context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	switch t.Kind {
	case cluster.CheckpointTrigger:
		return &cluster.Operation{Status: cluster.Completed, CheckpointID: 49}, nil
	case cluster.SavepointTrigger:
		switch {
		case f.Pending:
			return &cluster.Operation{Status: cluster.InProgress}, nil
		case f.StopFailure != nil && t.ID == "stop-1":
			return &cluster.Operation{Status: cluster.Completed, Failure: f.StopFailure}, nil
		}
		return &cluster.Operation{Status: cluster.Completed, Location: FakeSPNew}, nil
	}
	return nil, cluster.Errorf(cluster.ErrNotFound, "unknown trigger")
}

func (f *FakeCluster) Cancel(ctx context.Context, jobID string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Cancels = append(f.Cancels, jobID)
	return nil
}

func (f *FakeCluster) UploadArtifact(ctx context.Context, filename string, content io.Reader) (*cluster.Artifact, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Uploads = append(f.Uploads, filename)
	return &cluster.Artifact{ID: "a1_" + filename, Name: filename}, nil
}

func (f *FakeCluster) Artifacts(ctx context.Context) ([]cluster.Artifact, error) { return nil, nil }

func (f *FakeCluster) RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Runs = append(f.Runs, req)
	return FakeNewJobID, nil
}

func (f *FakeCluster) DeleteArtifact(ctx context.Context, id string) error { return nil }

// FakeStorage lays out the fake job's snapshots on local disk, served
// under /data: chk-46 and chk-47 complete (real Flink _metadata), chk-48
// without _metadata (in progress), the savepoints 40 and the restored one.
func FakeStorage(t testing.TB) storage.FS {
	dir := t.TempDir()
	fx := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(Fixtures(t), "apache-flink", name, "_metadata"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ck := fx("new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint")
	sp := fx("new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint")
	job := filepath.Join(dir, "flink", "checkpoints", FakeJobID)
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
		at := Now.Add(-f.age)
		os.Chtimes(f.path, at, at)
		os.Chtimes(filepath.Dir(f.path), at, at)
	}
	return PrefixFS{FS: storage.NewLocal(), Prefix: "/data", Root: dir}
}

// FakeSpecTarget stands in for the CLI's spec loader (cli/jobspec_target.go,
// tested there): the "v2" spec keeps the source and the keyed flat map of
// the migration fixtures' job and adds an operator.
func FakeSpecTarget(path string) (inspector.Target, error) {
	if strings.Contains(path, "missing") {
		return inspector.Target{}, fmt.Errorf("%s: no such file", path)
	}
	return inspector.Target{Source: "job spec " + path, Complete: true, Operators: []inspector.TargetOperator{
		{UID: "CheckpointingSource1", Parallelism: 1, MaxParallelism: 4},
		{UID: "CheckpointingKeyedStateFlatMap1", Parallelism: 4, MaxParallelism: 4},
		{UID: "brand-new-operator", Parallelism: 2, MaxParallelism: 128},
	}}, nil
}

// OpenJob opens a screen on the fake target and its storage (the job
// specs offered are the test package's testdata/specs).
func OpenJob(t testing.TB, w, h int, fc *FakeCluster, readonly bool, screen string, args ...string) *shell.App {
	t.Helper()
	return Open(t, Opts{W: w, H: h, FS: FakeStorage(t), Cluster: fc, Target: "jm.example:8081", Readonly: readonly,
		SpecDirs: []string{"testdata/specs"}, Specs: FakeSpecTarget}, screen, args...)
}

// SavepointTree is sptest.Tree as of Now, seen at /sp, plus a NATIVE
// savepoint of job ffffff whose state lives outside its directory (so
// ckpt will not delete it without a cluster). It returns the FS and the
// real directory.
func SavepointTree(t testing.TB) (storage.FS, string) {
	dir := t.TempDir()
	local := storage.NewLocal()
	sptest.Tree(t, local, dir, Now)
	// A fixed path keeps _metadata's size (and the goldens) stable; the
	// file need not exist to make the savepoint not self-contained.
	sptest.Write(t, local, filepath.Join(dir, "savepoint-ffffff-000000000001"), snapshot.FormatNative, 77, Now.Add(-3*24*3600e9), "/ckpt-test/elsewhere/state")
	return PrefixFS{FS: local, Prefix: "/sp", Root: dir}, dir
}

// MigrationUIDs are the uids of the jobs that wrote the 1.17–1.20 migration fixtures (SOURCES.md).
const MigrationUIDs = "CheckpointingSource1,CheckpointingKeyedStateFlatMap1,CheckpointingTimelyStatefulOperator1,brand-new-operator"

// UploadOnce uploads name unless it was uploaded before, as flinkrest's
// client does (GET /jars): how the runner jar reaches a Flink target.
func (f *FakeCluster) UploadOnce(ctx context.Context, name string, data []byte) (*cluster.Artifact, bool, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	a := &cluster.Artifact{ID: "a1_" + name, Name: name}
	if slices.Contains(f.Uploads, name) {
		return a, false, nil
	}
	f.Uploads = append(f.Uploads, name)
	return a, true, nil
}
