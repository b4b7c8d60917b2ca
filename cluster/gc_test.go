package cluster_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
)

// gcTarget answers what GCFacts asks: a job's status, checkpoint
// statistics and configuration (any other call panics).
type gcTarget struct {
	cluster.Cluster
	jobs map[string]*cluster.Job
	st   map[string]*cluster.CheckpointStats
	err  error
}

func (g *gcTarget) Job(_ context.Context, id string) (*cluster.Job, error) {
	if g.err != nil {
		return nil, g.err
	}
	if j, ok := g.jobs[id]; ok {
		return j, nil
	}
	return nil, cluster.ErrNotFound
}

func (g *gcTarget) Checkpoints(_ context.Context, id string) (*cluster.CheckpointStats, error) {
	return g.st[id], nil
}

func (g *gcTarget) CheckpointConfig(context.Context, string) (*cluster.CheckpointConfig, error) {
	return &cluster.CheckpointConfig{NumRetained: 3}, nil
}

func TestGCFacts(t *testing.T) {
	const run, idle, done, gone = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc", "dddddddddddddddddddddddddddddddd"
	busy := &cluster.CheckpointStats{Counts: cluster.CheckpointCounts{InProgress: 1},
		LatestRestored: &cluster.RestoredCheckpoint{ExternalPath: "file:/ck/old/chk-3"}}
	g := &gcTarget{
		jobs: map[string]*cluster.Job{run: {Status: cluster.JobRunning}, idle: {Status: cluster.JobRunning}, done: {Status: cluster.JobCanceled}},
		st:   map[string]*cluster.CheckpointStats{run: busy, idle: {}, done: {Counts: cluster.CheckpointCounts{InProgress: 1}}},
	}
	var opts inspector.GCOptions
	dirs := []string{"/ck/" + run, "/ck/" + idle, "/ck/" + done, "/ck/" + gone, "/ck/not-a-job"}
	if err := cluster.GCFacts(context.Background(), g, dirs, &opts); err != nil {
		t.Fatal(err)
	}
	if len(opts.HeldBack) != 1 || opts.HeldBack[run] == "" {
		t.Errorf("held back %v: want only the running job with a checkpoint in progress", opts.HeldBack)
	}
	if opts.RestoredFrom[run] != "file:/ck/old/chk-3" || opts.JobRetained[idle] != 3 || opts.JobRetained[gone] != 0 {
		t.Errorf("restored %v, retained %v", opts.RestoredFrom, opts.JobRetained)
	}
	// An unreachable target is an error: the guard cannot be checked.
	g.err = errors.New("connection refused")
	if err := cluster.GCFacts(context.Background(), g, dirs, &inspector.GCOptions{}); err == nil {
		t.Error("an unreachable target: no error")
	}
}
