package faults

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/storage"
)

// storageFaults: the checkpoint storage fills up (ENOSPC) or turns
// read-only (EROFS) for a while, starting in the middle of a checkpoint.
// The job fails over and keeps going (or recovers) with nothing lost, and
// once the window ends checkpoints complete again.
func storageFaults(t *testing.T, sz size) {
	for _, fault := range []struct {
		name  string
		errno syscall.Errno
		ops   map[Op]bool
	}{
		{"disk-full", syscall.ENOSPC, map[Op]bool{OpCreate: true, OpWrite: true, OpClose: true, OpMkdir: true}},
		{"read-only", syscall.EROFS, map[Op]bool{OpCreate: true, OpWrite: true, OpClose: true, OpMkdir: true, OpRename: true, OpRemove: true, OpRemoveAll: true}},
	} {
		t.Run(fault.name, func(t *testing.T) {
			for seed := int64(1); seed <= int64(sz.diskSeeds); seed++ {
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					t.Parallel()
					r := storageFaultScenario(t, seed, fault.errno, fault.ops)
					r.Family, r.Runs = "storage/"+fault.name, 1
					report.Add(r)
				})
			}
		})
	}
}

// window is a span of time during which storage calls fail.
type window struct {
	mu         sync.Mutex
	open       bool
	start, end time.Time
}

func (w *window) set(open bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.open = open
	if open {
		w.start = time.Now()
	} else {
		w.end = time.Now()
	}
}

func (w *window) isOpen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.open
}

func storageFaultScenario(t *testing.T, seed int64, errno syscall.Errno, ops map[Op]bool) Row {
	rng := rand.New(rand.NewSource(seed))
	tmp := t.TempDir()
	base, out, local := filepath.Join(tmp, "ckpt"), filepath.Join(tmp, "out"), filepath.Join(tmp, "local")
	jobID := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	var keep precious
	for _, p := range []string{filepath.Join(base, "PRECIOUS.txt"), filepath.Join(base, jobID, "PRECIOUS.txt"),
		filepath.Join(base, jobID, "shared", "PRECIOUS.txt"), filepath.Join(out, "PRECIOUS.txt"), filepath.Join(local, "PRECIOUS.txt")} {
		keep.Put(t, p)
	}
	var (
		win     window
		armed   atomic.Bool
		creates atomic.Int64
	)
	startAt := int64(1 + rng.Intn(8)) // the window opens at this create of a checkpoint in flight
	length := time.Duration(150+rng.Intn(350)) * time.Millisecond
	fsys := NewFS(storage.Default(), func(op Op, uri string) error {
		if armed.Load() && op == OpCreate && creates.Add(1) == startAt {
			armed.Store(false)
			win.set(true)
			time.AfterFunc(length, func() { win.set(false) })
		}
		if ops[op] && win.isOpen() {
			return errno
		}
		return nil
	})
	job, err := engine.Submit(context.Background(), countsJob(out, jobRecords, jobKeys, 4000), mustCfg(t,
		"execution.checkpointing.interval=40ms",
		"execution.checkpointing.dir="+base,
		"execution.checkpointing.num-retained=2",
		"ckpt.local-dir="+local,
		"parallelism.default=2",
		"restart-strategy.fixed-delay.delay=20ms",
	), engine.Options{FS: fsys, JobID: jobID})
	if err != nil {
		t.Fatal(err)
	}
	if !waitUntil(30*time.Second, func() bool { n, _ := completedCheckpoints(job); return n >= 2 }) {
		t.Fatalf("no checkpoints before the fault: %+v", job.Checkpoints())
	}
	armed.Store(true)
	done := make(chan struct{})
	var st engine.Status
	go func() { st, err = job.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		job.Cancel()
		t.Fatalf("the job hung after %v: %s", errno, job.Status())
	}
	win.mu.Lock()
	start, end := win.start, win.end
	win.mu.Unlock()
	t.Logf("%v window from create %d for %v: %d storage calls failed; job %s after %d attempts", errno, startAt, length,
		fsys.Failed(), st, job.Attempts())
	r := Row{Faults: int(fsys.Failed()), ForeignDeleted: keep.Check(t)}
	if start.IsZero() || fsys.Failed() == 0 {
		t.Errorf("the fault window never opened (the job finished first): the scenario tested nothing")
	}
	if st != engine.Finished {
		t.Errorf("the job ended %s after %v: %v", st, errno, err)
	}
	// Checkpoints complete again once the window has closed.
	after := 0
	for _, s := range job.Checkpoints() {
		if s.Status == "COMPLETED" && !end.IsZero() && s.TriggerTime.After(end) {
			after++
		}
	}
	if after == 0 && !end.IsZero() {
		t.Errorf("no checkpoint completed after the %v window closed: %+v", errno, job.Checkpoints())
	}
	got, want := committed(t, out), reference(jobRecords, jobKeys)
	lost, dup, ex := lostAndDuplicated(got, want)
	if lost+dup > 0 {
		t.Errorf("after %v: %d records lost, %d duplicated: %s", errno, lost, dup, ex)
	}
	r.Lost, r.Duplicated = lost, dup
	if st == engine.Finished && lost+dup == 0 {
		r.Recovered = 1
	}
	return r
}
