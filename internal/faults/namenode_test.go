package faults

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// namenodeFaults freezes the NameNode (SIGSTOP of a private HDFS peer's
// JVM, then SIGCONT) in the middle of a checkpoint and in the middle of a
// restore. Checkpoints time out or fail and the job fails over while it is
// frozen; once it thaws the job finishes with nothing lost and
// checkpoints complete again. Only a private peer is ever frozen, never
// the shared one of make test.
//
// Killing the NameNode (and restarting it) is not covered: the peer
// (Hadoop's MiniDFSCluster) formats fresh storage on every start, so a
// killed NameNode comes back empty and on another port.
func namenodeFaults(t *testing.T, sz size) {
	p := peers.PrivateHDFS(t)
	pid := p.PID()
	if pid == 0 {
		t.Fatal("the private HDFS peer has no pid")
	}
	for round := 1; round <= sz.hdfsRounds; round++ {
		t.Run(fmt.Sprintf("frozen-mid-checkpoint/seed=%d", round), func(t *testing.T) {
			r := frozenScenario(t, p, pid, int64(round), false)
			r.Family, r.Runs = "namenode/frozen-checkpoint", 1
			report.Add(r)
		})
		t.Run(fmt.Sprintf("frozen-mid-restore/seed=%d", round), func(t *testing.T) {
			r := frozenScenario(t, p, pid, int64(round), true)
			r.Family, r.Runs = "namenode/frozen-restore", 1
			report.Add(r)
		})
	}
}

// freezer stops the NameNode's JVM at a storage call and lets it go on
// after a while.
type freezer struct {
	pid      int
	thawIn   time.Duration
	mu       sync.Mutex
	frozen   bool
	froze    int
	thawedAt time.Time
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen {
		return
	}
	if err := syscall.Kill(f.pid, syscall.SIGSTOP); err != nil {
		return
	}
	f.frozen = true
	f.froze++
	time.AfterFunc(f.thawIn, f.thaw)
}

func (f *freezer) thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen {
		syscall.Kill(f.pid, syscall.SIGCONT)
		f.frozen = false
		f.thawedAt = time.Now()
	}
}

func frozenScenario(t *testing.T, p *peers.HDFSPeer, pid int, seed int64, midRestore bool) Row {
	tmp := t.TempDir()
	base := p.BaseURI(t)
	out := filepath.Join(tmp, "out")
	fz := &freezer{pid: pid, thawIn: time.Duration(2000+500*seed) * time.Millisecond}
	t.Cleanup(fz.thaw)
	c, err := p.Client("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	jobID := fmt.Sprintf("%032x", seed*7919+int64(len(t.Name())))
	preciousHDFS := []string{"/PRECIOUS.txt", "/" + jobID + "/PRECIOUS.txt"}
	root := strings.TrimPrefix(base, "hdfs://"+p.Addr)
	for _, f := range preciousHDFS {
		c.MkdirAll(filepath.Dir(root+f), 0o777)
		w, err := c.Create(root + f)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("precious"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var keep precious
	keep.Put(t, filepath.Join(out, "PRECIOUS.txt"))

	var armed atomic.Bool
	var calls atomic.Int64
	at := 1 + seed%4
	fsys := NewFS(storage.Default(), func(op Op, uri string) error {
		if !armed.Load() {
			return nil
		}
		hit := (!midRestore && op == OpCreate && strings.Contains(uri, "/chk-")) || (midRestore && (op == OpOpen || op == OpStat))
		if hit && calls.Add(1) == at {
			armed.Store(false)
			fz.freeze()
		}
		return nil
	})
	kv := []string{
		"execution.checkpointing.interval=100ms",
		"execution.checkpointing.timeout=1s",
		"execution.checkpointing.dir=" + base,
		"execution.checkpointing.num-retained=2",
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		"parallelism.default=2",
		"restart-strategy.fixed-delay.delay=200ms",
	}
	submit := func(restore string, records int64, rate float64) *engine.Job {
		kv := kv
		if restore != "" {
			kv = append(kv, "execution.state-recovery.path="+restore)
		}
		job, err := engine.Submit(context.Background(), countsJob(out, records, jobKeys, rate), mustCfg(t, kv...),
			engine.Options{FS: fsys, JobID: jobID})
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		return job
	}
	var job *engine.Job
	if midRestore {
		// A checkpoint on HDFS to restore from, then a restore that meets
		// a frozen NameNode.
		first := submit("", jobRecords, 3000)
		if !waitUntil(60*time.Second, func() bool { n, _ := completedCheckpoints(first); return n >= 2 }) {
			t.Fatalf("no checkpoints on HDFS: %+v", first.Checkpoints())
		}
		first.Cancel()
		first.Wait()
		found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), base)
		if err != nil || !ok {
			t.Fatalf("no retained checkpoint on HDFS: %v", err)
		}
		jobID = fmt.Sprintf("%032x", seed*104729+int64(len(t.Name())))
		armed.Store(true)
		job = submit(found.Dir, jobRecords, 3000)
	} else {
		job = submit("", jobRecords, 3000)
		if !waitUntil(60*time.Second, func() bool { n, _ := completedCheckpoints(job); return n >= 2 }) {
			t.Fatalf("no checkpoints on HDFS: %+v", job.Checkpoints())
		}
		armed.Store(true)
	}
	done := make(chan struct{})
	var st engine.Status
	go func() { st, err = job.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		fz.thaw()
		job.Cancel()
		t.Fatalf("the job hung with the NameNode frozen: %s", job.Status())
	}
	fz.mu.Lock()
	froze, thawed := fz.froze, fz.thawedAt
	fz.mu.Unlock()
	t.Logf("NameNode frozen %d time(s) for %v; job %s after %d attempts: %v", froze, fz.thawIn, st, job.Attempts(), err)
	if froze == 0 {
		t.Errorf("the NameNode was never frozen: the scenario tested nothing")
	}
	r := Row{Faults: froze}
	if st != engine.Finished {
		t.Errorf("the job ended %s: %v", st, err)
	}
	if !midRestore {
		after := 0
		for _, s := range job.Checkpoints() {
			if s.Status == "COMPLETED" && !thawed.IsZero() && s.TriggerTime.After(thawed) {
				after++
			}
		}
		if after == 0 {
			t.Errorf("no checkpoint completed after the NameNode thawed")
		}
	}
	got, want := committed(t, out), reference(jobRecords, jobKeys)
	lost, dup, ex := lostAndDuplicated(got, want)
	if lost+dup > 0 {
		t.Errorf("%d records lost, %d duplicated: %s", lost, dup, ex)
	}
	r.Lost, r.Duplicated = lost, dup
	r.ForeignDeleted = keep.Check(t)
	for _, f := range preciousHDFS {
		if _, err := c.Stat(root + f); err != nil {
			t.Errorf("FOREIGN FILE DELETED on HDFS: %s: %v", base+f, err)
			r.ForeignDeleted++
		}
	}
	if st == engine.Finished && lost+dup == 0 {
		r.Recovered = 1
	}
	return r
}
