package job

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Speed target of the job screen (README "Speed"): one frame under 2 ms
// with 500 vertices and 1,000 checkpoints. Run:
// go test -run '^$' -bench ViewJob ./tui/screens/job/

// bigJob is a job screen fed with a job of many vertices and a long
// checkpoint history (as a REST target with web.checkpoints.history raised
// reports), with a checkpoint in flight on every vertex.
func bigJob(b *testing.B, vertices, history int) (*shell.App, *Screen) {
	ctx, choice, err := shell.NewContext(shell.Setup{FS: storage.NewLocal(), Getenv: func(string) string { return "" }, Cluster: &tuitest.FakeCluster{}, TargetName: "jm:8081"})
	if err != nil {
		b.Fatal(err)
	}
	ctx.Now = func() time.Time { return tuitest.Now }
	ctx.ManualPoll = true
	s := newJob(ctx, tuitest.FakeJobID)
	job := &cluster.Job{ID: tuitest.FakeJobID, Name: "big", Status: cluster.JobRunning, Start: tuitest.Now.Add(-time.Hour), Duration: time.Hour}
	inflight := &cluster.Checkpoint{ID: int64(history), Status: cluster.CheckpointInProgress, TriggerTime: tuitest.Now.Add(-3 * time.Second),
		NumSubtasks: vertices * 4, Tasks: map[string]cluster.TaskCheckpoint{}}
	pending := map[string]*cluster.VertexCheckpoint{}
	for i := 0; i < vertices; i++ {
		id := fmt.Sprintf("%032x", i+1)
		job.Vertices = append(job.Vertices, cluster.Vertex{ID: id, Name: fmt.Sprintf("operator-%04d -> map -> filter", i), Parallelism: 4,
			Status: cluster.TaskRunning, Tasks: map[string]int{cluster.TaskRunning: 4},
			Metrics:   cluster.VertexMetrics{ReadRecords: int64(i) * 1000, WriteRecords: int64(i) * 990, ReadRecordsComplete: true, WriteRecordsComplete: true},
			Operators: []cluster.Operator{{ID: id, UID: fmt.Sprintf("operator-%04d", i), Name: fmt.Sprintf("operator-%04d", i)}, {ID: fmt.Sprintf("%032x", 100000+i), Name: "map"}}})
		inflight.Tasks[id] = cluster.TaskCheckpoint{NumSubtasks: 4, NumAcked: i % 5}
		if i%5 < 4 && len(pending) < maxPendingVertices {
			vc := &cluster.VertexCheckpoint{}
			for k := 0; k < 4; k++ {
				vc.Subtasks = append(vc.Subtasks, cluster.SubtaskCheckpoint{Index: k, Acknowledged: k < i%5})
			}
			pending[id] = vc
		}
	}
	stats := &cluster.CheckpointStats{Counts: cluster.CheckpointCounts{Total: history, Completed: history - 1, InProgress: 1}}
	for i := history; i > 0; i-- {
		c := cluster.Checkpoint{ID: int64(i), Status: cluster.CheckpointCompleted, TriggerTime: tuitest.Now.Add(-time.Duration(history-i+1) * 10 * time.Second),
			EndToEnd: time.Second, NumSubtasks: vertices * 4, NumAcked: vertices * 4, CheckpointedSize: int64(i) << 20, StateSize: int64(i) << 24,
			ExternalPath: fmt.Sprintf("hdfs://nn:8020/flink/checkpoints/%s/chk-%d", tuitest.FakeJobID, i)}
		if i == history {
			c.Status, c.NumAcked = cluster.CheckpointInProgress, inflight.NumAcked
		}
		stats.History = append(stats.History, c)
	}
	stats.LatestCompleted = &stats.History[1]
	s.onPoll(jobPolledMsg{job: job, stats: stats, cfg: &cluster.CheckpointConfig{Interval: 10 * time.Second, Timeout: 10 * time.Minute},
		inflight: inflight, pending: pending, exc: &cluster.Exceptions{}, conf: map[string]string{}})
	a := shell.NewApp(ctx, s, choice)
	a.StopClock()
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	return a, s
}

// BenchmarkViewJob: one frame of the job screen's overview (vertices and
// the live checkpoint) and of its history pane, with 500 vertices and
// 1,000 checkpoints; target < 2 ms each.
func BenchmarkViewJob(b *testing.B) {
	for _, pane := range []int{paneOverview, paneHistory} {
		b.Run(paneNames[pane], func(b *testing.B) {
			a, s := bigJob(b, 500, 1000)
			s.pane = pane
			s.paneList().Select(250)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.paneList().Move(1 - 2*(i%2))
				_ = a.Render()
			}
		})
	}
}
