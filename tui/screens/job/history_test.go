package job_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/internal/screenlist"
	"github.com/ckpt-dev/ckpt/tui/screens/job"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// restFake is the fake cluster as a REST target (it has a URL), whose
// history the job screen remembers.
type restFake struct{ *tuitest.FakeCluster }

func (restFake) URL() string { return "http://jm.example:8081" }

// #4: the job screen writes every finished checkpoint and savepoint of a
// REST target to the state dir; a later session (after Flink's 10-entry
// history moved on, or a JobManager restart) merges them back, marked as
// remembered, oldest last, and never opens their (lost) details.
func TestJobRemembersCheckpointHistory(t *testing.T) {
	state := t.TempDir()
	open := func(fc cluster.Cluster, size ...int) *shell.App {
		ctx, choice, err := shell.NewContext(shell.Setup{Screens: screenlist.Declared, FS: tuitest.FakeStorage(t), Cluster: fc, TargetName: "jm.example:8081",
			Getenv: func(k string) string { return map[string]string{"XDG_STATE_HOME": state, "HOME": t.TempDir()}[k] }})
		if err != nil {
			t.Fatal(err)
		}
		ctx.Now = func() time.Time { return tuitest.Now }
		ctx.ManualPoll = true
		first, err := screenlist.Declared.Open(ctx, "job", []string{tuitest.FakeJobID})
		if err != nil {
			t.Fatal(err)
		}
		a := shell.NewApp(ctx, first, choice)
		a.StopClock()
		if len(size) == 2 {
			a.Update(tuitest.SizeMsg(size[0], size[1]))
		} else {
			a.Update(tuitest.SizeMsg(160, 48))
		}
		tuitest.Drain(t, a, a.Init())
		return a
	}
	open(restFake{&tuitest.FakeCluster{}})
	file := filepath.Join(state, "ckpt", "history", "jm.example_8081", tuitest.FakeJobID+".jsonl")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// 47 down to 39 are finished (48 is in progress): nine lines.
	if n := strings.Count(string(b), "\n"); n != 9 || strings.Contains(string(b), `"id":48`) {
		t.Fatalf("history file has %d lines:\n%s", n, b)
	}

	// Later: the target reports only 50..41 (say); 40 and 39 are remembered.
	fc := &shiftedHistory{FakeCluster: &tuitest.FakeCluster{}, by: 2}
	a := open(fc)
	tuitest.Press(t, a, "2")
	f := tuitest.FrameText(a)
	for _, w := range []string{"+ 2 older, remembered by ckpt (marked *): the target reports only its last 10", "*40 COMPLETED", "*39 COMPLETED"} {
		if !strings.Contains(f, w) {
			t.Errorf("history pane lacks %q:\n%s", w, f)
		}
	}
	j := a.Top().(*job.Screen)
	h := job.History(j)
	if n := len(h); n != 12 || !h[10].Remembered || h[10].ID != 40 || h[11].ID != 39 {
		t.Fatalf("merged history: %d rows, tail %+v", n, h[len(h)-2:])
	}
	tuitest.Golden(t, a, "job-checkpoints-remembered-160x48")
	a80 := open(fc, 80, 24)
	tuitest.Press(t, a80, "2", "G")
	tuitest.Golden(t, a80, "job-checkpoints-remembered-80x24")
	tuitest.Press(t, a, "G", "enter")
	if _, ok := a.Top().(*job.Screen); !ok || !strings.Contains(tuitest.FrameText(a), "#39 is remembered by ckpt only") {
		t.Errorf("enter on a remembered checkpoint:\n%s", tuitest.FrameText(a))
	}
	// Nothing is written twice.
	b, _ = os.ReadFile(file)
	if n := strings.Count(string(b), "\n"); n != 11 {
		t.Errorf("history file has %d lines after the second session, want 11 (49 and 50 added):\n%s", n, b)
	}

	// The in-process engine keeps its own catalog: nothing recorded.
	state = t.TempDir()
	open(&tuitest.FakeCluster{})
	if _, err := os.Stat(filepath.Join(state, "ckpt")); !os.IsNotExist(err) {
		t.Errorf("history recorded for a target without a URL: %v", err)
	}
}

// shiftedHistory reports checkpoints by newer: the history window moved
// on by `by` checkpoints.
type shiftedHistory struct {
	*tuitest.FakeCluster
	by int64
}

func (shiftedHistory) URL() string { return "http://jm.example:8081" }

func (f *shiftedHistory) Checkpoints(ctx context.Context, jobID string) (*cluster.CheckpointStats, error) {
	st, err := f.FakeCluster.Checkpoints(ctx, jobID)
	if err != nil {
		return nil, err
	}
	for i := range st.History {
		st.History[i].ID += f.by
	}
	return st, nil
}

// A corrupt history file is named with its line, and the pane still works;
// a last line cut short by a crash is dropped.
func TestReadHistoryErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j.jsonl")
	line := `{"id":1,"status":"COMPLETED","trigger_ms":1,"checkpointed_size":1,"state_size":1,"end_to_end_ms":1,"num_subtasks":1,"num_acked":1}` + "\n"
	os.WriteFile(p, []byte(line+"{oops\n"+line), 0o600)
	if _, err := job.ReadHistory(p); err == nil || !strings.Contains(err.Error(), p+":2:") {
		t.Errorf("error %v, want it to name %s:2", err, p)
	}
	os.WriteFile(p, []byte(line+`{"id":2,"sta`), 0o600)
	if cs, err := job.ReadHistory(p); err != nil || len(cs) != 1 {
		t.Errorf("torn last line: %v %v, want the one whole checkpoint", cs, err)
	}
	if cs, err := job.ReadHistory(filepath.Join(t.TempDir(), "none.jsonl")); err != nil || cs != nil {
		t.Errorf("missing file: %v %v", cs, err)
	}
}

// A long history file is compacted to the newest entries read back.
func TestHistoryCompaction(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j.jsonl")
	var cs []cluster.Checkpoint
	for i := int64(1); i <= 2*job.MaxRemembered+5; i++ {
		cs = append(cs, cluster.Checkpoint{ID: i, Status: cluster.CheckpointCompleted})
	}
	if err := job.AppendHistory(p, cs); err != nil {
		t.Fatal(err)
	}
	recs, lines, err := job.ReadHistoryLines(p)
	if err != nil || lines != 2*job.MaxRemembered+5 || len(recs) != job.MaxRemembered || recs[0].ID != int64(2*job.MaxRemembered+5) {
		t.Fatalf("read %d lines, %d records (newest %+v): %v", lines, len(recs), recs[:1], err)
	}
	if err := job.CompactHistory(p, recs); err != nil {
		t.Fatal(err)
	}
	again, lines, err := job.ReadHistoryLines(p)
	if err != nil || lines != job.MaxRemembered || len(again) != job.MaxRemembered || again[0].ID != recs[0].ID || again[len(again)-1].ID != recs[len(recs)-1].ID {
		t.Errorf("after compaction: %d lines, %d records: %v", lines, len(again), err)
	}
}
