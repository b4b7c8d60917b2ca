package faults

import (
	"context"
	"fmt"
	"os"
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
// It also kills the NameNode (SIGKILL of the JVM, which holds the DataNode
// too) at the same points and restarts it on its data and address: while
// it is down checkpoints fail and restores are retried; once it is back
// the job finishes with nothing lost.
func namenodeFaults(t *testing.T, sz size) {
	p := peers.PrivateHDFS(t)
	pid := p.PID()
	if pid == 0 {
		t.Fatal("the private HDFS peer has no pid")
	}
	for round := 1; round <= sz.hdfsRounds; round++ {
		for _, sc := range []struct {
			name             string
			kill, midRestore bool
		}{
			{"frozen-checkpoint", false, false}, {"frozen-restore", false, true},
			{"killed-checkpoint", true, false}, {"killed-restore", true, true},
		} {
			t.Run(fmt.Sprintf("%s/seed=%d", sc.name, round), func(t *testing.T) {
				r := frozenScenario(t, p, pid, int64(round), sc.midRestore, sc.kill)
				r.Family, r.Runs = "namenode/"+sc.name, 1
				report.Add(r)
			})
			if sc.kill {
				pid = p.PID() // the restarted JVM
			}
		}
	}
}

// freezer stops the NameNode's JVM at a storage call and lets it go on
// after a while — or, with kill, kills it and restarts it after a while.
type freezer struct {
	t        *testing.T
	p        *peers.HDFSPeer
	kill     bool
	pid      int
	thawIn   time.Duration
	mu       sync.Mutex
	frozen   bool
	froze    int
	thawedAt time.Time
	back     chan struct{} // closed once a killed NameNode is back
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen || f.froze > 0 {
		return
	}
	if f.kill {
		f.p.Kill(f.t)
		f.froze++
		f.back = make(chan struct{})
		go func() {
			defer close(f.back)
			time.Sleep(f.thawIn)
			err := f.p.Restart(f.t)
			f.mu.Lock()
			f.thawedAt = time.Now()
			f.mu.Unlock()
			if err != nil {
				f.t.Errorf("restarting the killed NameNode: %v", err)
			}
		}()
		return
	}
	if err := syscall.Kill(f.pid, syscall.SIGSTOP); err != nil {
		return
	}
	f.frozen = true
	f.froze++
	time.AfterFunc(f.thawIn, f.thaw)
}

// wait returns once a killed NameNode is back.
func (f *freezer) wait() {
	f.mu.Lock()
	back := f.back
	f.mu.Unlock()
	if back != nil {
		<-back
	}
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

func frozenScenario(t *testing.T, p *peers.HDFSPeer, pid int, seed int64, midRestore, kill bool) Row {
	tmp := t.TempDir()
	base := p.BaseURI(t)
	out := filepath.Join(tmp, "out")
	fz := &freezer{t: t, p: p, kill: kill, pid: pid, thawIn: time.Duration(2000+500*seed) * time.Millisecond}
	t.Cleanup(fz.thaw)
	t.Cleanup(fz.wait)
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
		err = w.Close()
		for i := 0; err != nil && strings.Contains(err.Error(), "replication in progress") && i < 50; i++ {
			time.Sleep(100 * time.Millisecond) // the NameNode waits for the DataNode's report
			err = w.Close()
		}
		if err != nil {
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
	submit := func(restore string) (*engine.Job, error) {
		kv := kv
		if restore != "" {
			kv = append(kv, "execution.state-recovery.path="+restore)
		}
		return engine.Submit(context.Background(), countsJob(out, jobRecords, jobKeys, 3000), mustCfg(t, kv...),
			engine.Options{FS: fsys, JobID: jobID})
	}
	var job *engine.Job
	if midRestore {
		// A checkpoint on HDFS to restore from, then a restore that meets
		// a frozen (or dead) NameNode.
		first, err := submit("")
		if err != nil {
			t.Fatal(err)
		}
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
		job, err = submit(found.Dir)
		if err != nil && kill {
			// A dead NameNode is an error naming where, at once; once
			// it is back the same restore works.
			if !strings.Contains(err.Error(), p.Addr) {
				t.Errorf("restoring with the NameNode down: the error does not name it: %v", err)
			}
			t.Logf("restore refused while the NameNode is down: %v", firstLine(err))
			fz.wait()
			job, err = submit(found.Dir)
		}
		if err != nil {
			t.Fatalf("restore from %s: %v", found.Dir, err)
		}
	} else {
		var err error
		if job, err = submit(""); err != nil {
			t.Fatal(err)
		}
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
	case <-time.After(4 * time.Minute):
		fz.thaw()
		job.Cancel()
		t.Fatalf("the job hung with the NameNode frozen or killed: %s", job.Status())
	}
	fz.wait()
	fz.mu.Lock()
	froze, thawed := fz.froze, fz.thawedAt
	fz.mu.Unlock()
	what := "frozen"
	if kill {
		what = "killed (and restarted after)"
	}
	t.Logf("NameNode %s %d time(s) for %v; job %s after %d attempts: %v", what, froze, fz.thawIn, st, job.Attempts(), err)
	if froze == 0 {
		t.Errorf("the NameNode was never %s: the scenario tested nothing", what)
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
	// A NameNode just restarted may not answer yet: wait for it, and count
	// a file as deleted only when the NameNode says it does not exist.
	waitUntil(90*time.Second, func() bool { _, err := c.Stat(root); return err == nil || os.IsNotExist(err) })
	for _, f := range preciousHDFS {
		_, err := c.Stat(root + f)
		switch {
		case err == nil:
		case os.IsNotExist(err):
			t.Errorf("FOREIGN FILE DELETED on HDFS: %s: %v", base+f, err)
			r.ForeignDeleted++
		default:
			t.Errorf("could not check %s (the NameNode did not come back): %v", base+f, err)
		}
	}
	if st == engine.Finished && lost+dup == 0 {
		r.Recovered = 1
	}
	return r
}
