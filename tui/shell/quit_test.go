package shell

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/cluster"
)

// quitCluster is a cluster with running jobs that records stops.
type quitCluster struct {
	cluster.Cluster
	jobs    []cluster.JobSummary
	stopErr error
	mu      sync.Mutex // StopAll stops jobs in parallel
	stopped []string
}

func (c *quitCluster) Jobs(context.Context) ([]cluster.JobSummary, error) { return c.jobs, nil }

func (c *quitCluster) StopWithSavepoint(_ context.Context, id string, _ cluster.StopRequest) (cluster.Trigger, error) {
	if c.stopErr != nil {
		return cluster.Trigger{}, c.stopErr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = append(c.stopped, id)
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: id, ID: "t-" + id}, nil
}

func (c *quitCluster) Poll(_ context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	return &cluster.Operation{Status: cluster.Completed, Location: "/sp/savepoint-" + t.JobID}, nil
}

// run executes cmd and feeds what it returns back into the app, as the
// bubbletea runtime would (batches included).
func run(a *App, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	switch m := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range m {
			run(a, c)
		}
	default:
		_, next := a.Update(m)
		if _, quit := msg.(tea.QuitMsg); !quit {
			_ = next // ticks and screen commands are not needed here
		}
	}
}

func quitApp(t *testing.T, inProcess bool, c *quitCluster) *App {
	a := testApp(t, 80, 24, false, manyKeys(2))
	a.ctx.Cluster, a.ctx.InProcess, a.ctx.Timeout = c, inProcess, 5*time.Second
	if inProcess {
		a.ctx.Home = c
	}
	return a
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	return tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
}

func TestQuitAsksWhenJobsRunInProcess(t *testing.T) {
	running := []cluster.JobSummary{
		{ID: "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c", Name: "orders-enrichment", Status: cluster.JobRunning},
		{ID: "aa2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c", Name: "clicks", Status: cluster.JobRunning},
		{ID: "bb2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c", Name: "old", Status: cluster.JobFinished},
	}
	tests := []struct {
		name      string
		inProcess bool
		jobs      []cluster.JobSummary
		stopErr   error
		keys      []string // after the quit key
		quitKey   string
		wantQuit  bool
		wantStops int
		wantErr   string
	}{
		{name: "remote target quits at once", inProcess: false, jobs: running, quitKey: "q", wantQuit: true},
		{name: "no running job quits at once", inProcess: true, jobs: running[2:], quitKey: "q", wantQuit: true},
		{name: "esc stays", inProcess: true, jobs: running, quitKey: "q", keys: []string{"esc"}},
		{name: "c cancels and quits", inProcess: true, jobs: running, quitKey: "q", keys: []string{"c"}, wantQuit: true},
		{name: "ctrl+c asks too", inProcess: true, jobs: running, quitKey: "ctrl+c"},
		{name: "ctrl+c twice quits", inProcess: true, jobs: running, quitKey: "ctrl+c", keys: []string{"ctrl+c"}, wantQuit: true},
		{name: "s stops each with a savepoint", inProcess: true, jobs: running, quitKey: "q", keys: []string{"s"}, wantQuit: true, wantStops: 2},
		{name: "a failed stop stays", inProcess: true, jobs: running, quitKey: "q", keys: []string{"s"}, stopErr: errors.New("no savepoint dir"), wantErr: "not quitting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &quitCluster{jobs: tt.jobs, stopErr: tt.stopErr}
			a := quitApp(t, tt.inProcess, c)
			_, cmd := a.Update(keyMsg(tt.quitKey))
			run(a, cmd)
			if len(tt.keys) > 0 || (!tt.wantQuit && tt.wantErr == "") {
				if a.Quitting() {
					t.Fatal("quit without asking")
				}
				frame := ansi.Strip(a.Render())
				if !strings.Contains(frame, "2 jobs run in this process") || !strings.Contains(frame, "orders-enrichment") ||
					strings.Contains(frame, " old ") {
					t.Fatalf("the dialog does not name the running jobs:\n%s", frame)
				}
			}
			for _, k := range tt.keys {
				_, cmd := a.Update(keyMsg(k))
				run(a, cmd)
			}
			if a.Quitting() != tt.wantQuit {
				t.Errorf("quitting = %v, want %v", a.Quitting(), tt.wantQuit)
			}
			if len(c.stopped) != tt.wantStops {
				t.Errorf("stopped %v, want %d jobs", c.stopped, tt.wantStops)
			}
			if tt.wantErr != "" && (a.ctx.Tasks.LastErr == nil || !strings.Contains(a.ctx.Tasks.LastErr.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", a.ctx.Tasks.LastErr, tt.wantErr)
			}
		})
	}
}

// Job answers the stop's wait for a terminal state: stopped jobs are
// FINISHED.
func (c *quitCluster) Job(_ context.Context, id string) (*cluster.Job, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stopped {
		if s == id {
			return &cluster.Job{ID: id, Status: cluster.JobFinished}, nil
		}
	}
	return &cluster.Job{ID: id, Status: cluster.JobRunning}, nil
}
