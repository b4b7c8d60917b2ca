package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// A child is this test binary run again as a ckpt process the parent may
// SIGKILL (or that SIGKILLs itself at the k-th storage call of a kind).
const childEnv = "CKPT_FAULTS_CHILD"

func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Hour)
}

func envInt(name string) int64 {
	n, _ := strconv.ParseInt(os.Getenv(name), 10, 64)
	return n
}

func child(mode string) int {
	switch mode {
	case "job":
		return childJob()
	case "dispose":
		return childDispose()
	}
	fmt.Fprintln(os.Stderr, "unknown child mode", mode)
	return 2
}

// childJob runs the exactly-once job once, restoring from FAULTS_RESTORE
// when set. It kills itself at the FAULTS_KILL_MUTATE-th storage call that
// changes something, at the FAULTS_KILL_READ-th read before the job runs
// (that is, while it restores), or — with FAULTS_SAVEPOINT — at the
// FAULTS_KILL_SAVEPOINT-th storage call of a savepoint it triggers after
// FAULTS_SP_DELAY ms.
func childJob() int {
	killMutate, killRead, killSP := envInt("FAULTS_KILL_MUTATE"), envInt("FAULTS_KILL_READ"), envInt("FAULTS_KILL_SAVEPOINT")
	var mutates, reads, spCalls atomic.Int64
	var restoring atomic.Bool
	restoring.Store(true)
	fsys := NewFS(storage.Default(), func(op Op, uri string) error {
		switch {
		case op.Mutates():
			if strings.Contains(uri, "/savepoint-") {
				if n := spCalls.Add(1); killSP > 0 && n == killSP {
					killSelf()
				}
			}
			if n := mutates.Add(1); killMutate > 0 && n == killMutate {
				killSelf()
			}
		case restoring.Load():
			if n := reads.Add(1); killRead > 0 && n == killRead {
				killSelf()
			}
		}
		return nil
	})
	kv := []string{
		"execution.checkpointing.interval=40ms",
		"execution.checkpointing.dir=" + os.Getenv("FAULTS_BASE"),
		"execution.checkpointing.num-retained=2",
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		"ckpt.local-dir=" + os.Getenv("FAULTS_LOCAL"),
		"parallelism.default=2",
		"restart-strategy.fixed-delay.delay=10ms",
	}
	if r := os.Getenv("FAULTS_RESTORE"); r != "" {
		kv = append(kv, "execution.state-recovery.path="+r)
	}
	cfg, err := cfgOf(kv...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	job, err := engine.Submit(context.Background(), countsJob(os.Getenv("FAULTS_OUT"), jobRecords, jobKeys, 8000), cfg,
		engine.Options{FS: fsys, JobID: os.Getenv("FAULTS_JOBID")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "submit:", err)
		return 1
	}
	go func() {
		for job.Status() != engine.Running && !job.Status().Terminal() {
			time.Sleep(time.Millisecond)
		}
		restoring.Store(false)
	}()
	if sp := os.Getenv("FAULTS_SAVEPOINT"); sp != "" {
		waitUntil(time.Minute, func() bool { return job.Status() == engine.Running })
		time.Sleep(time.Duration(envInt("FAULTS_SP_DELAY")) * time.Millisecond)
		var dir string
		var err error
		for try := 0; try < 20; try++ {
			ctx, cancel := ctxT(time.Minute)
			dir, err = job.Savepoint(ctx, sp, snapshot.SavepointFormat(os.Getenv("FAULTS_SP_FORMAT")))
			cancel()
			if !errors.Is(err, checkpoint.ErrNotRunning) {
				break
			}
			time.Sleep(20 * time.Millisecond) // declined while the job (re)starts: as an operator would, try again
		}
		fmt.Fprintf(os.Stderr, "savepoint %s: %v (%d savepoint calls)\n", dir, err, spCalls.Load())
	}
	st, err := job.Wait()
	fmt.Fprintf(os.Stderr, "calls: mutate=%d read-before-running=%d savepoint=%d\n", mutates.Load(), reads.Load(), spCalls.Load())
	if st != engine.Finished {
		fmt.Fprintln(os.Stderr, "job:", st, err)
		return 1
	}
	return 0
}

// childDispose disposes the snapshot in FAULTS_DIR, killing itself at the
// FAULTS_KILL_CALL-th storage call.
func childDispose() int {
	k := envInt("FAULTS_KILL_CALL")
	var n atomic.Int64
	fsys := NewFS(storage.Default(), func(op Op, uri string) error {
		if c := n.Add(1); k > 0 && c == k {
			killSelf()
		}
		return nil
	})
	ctx, cancel := ctxT(time.Minute)
	defer cancel()
	d, err := snapshot.Dispose(ctx, fsys, os.Getenv("FAULTS_DIR"))
	fmt.Fprintf(os.Stderr, "dispose: %s (%d calls): %v\n", d.Summary(), n.Load(), err)
	if err != nil {
		return 1
	}
	return 0
}

// runChild runs a child; killAfter > 0 SIGKILLs it after that long, and
// killWhen, when set, SIGKILLs it as soon as it holds (polled).
func runChild(t *testing.T, mode string, env []string, killAfter time.Duration, killWhen func() bool) (killed bool, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if killAfter > 0 {
		timer = time.After(killAfter)
	}
	var poll <-chan time.Time
	if killWhen != nil {
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		poll = tk.C
	}
	hang := time.After(2 * time.Minute)
	for {
		select {
		case err := <-done:
			if err == nil {
				return false, errb.String()
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true, errb.String()
			}
			return false, fmt.Sprintf("child failed: %v\n%s", err, errb.String())
		case <-timer:
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return true, errb.String()
		case <-poll:
			if killWhen() {
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				return true, errb.String()
			}
		case <-hang:
			cmd.Process.Kill()
			<-done
			t.Fatalf("child hung for 2 minutes\n%s", errb.String())
		}
	}
}

func sigkillFamilies(t *testing.T, sz size) {
	for _, fam := range []struct {
		name string
		run  func(t *testing.T, seed int64) Row
	}{
		{"checkpoint", killCheckpointScenario},
		{"restore", killRestoreScenario},
		{"savepoint", killSavepointScenario},
		{"dispose", killDisposeScenario},
	} {
		t.Run(fam.name, func(t *testing.T) {
			for seed := int64(1); seed <= int64(sz.killSeeds); seed++ {
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					t.Parallel()
					r := fam.run(t, seed)
					r.Family, r.Runs = "sigkill/"+fam.name, 1
					report.Add(r)
				})
			}
		})
	}
}

// chain is one seeded life of the exactly-once job across processes: the
// job's directories, its precious neighbours, and the restore point.
type chain struct {
	t                   *testing.T
	rng                 *rand.Rand
	base, out, local    string
	sp                  string
	restore             string
	kills               int
	finished            bool
	keep                precious
	lost, dup, failures int
}

func newChain(t *testing.T, seed int64) *chain {
	tmp := t.TempDir()
	c := &chain{t: t, rng: rand.New(rand.NewSource(seed)), base: filepath.Join(tmp, "ckpt"), out: filepath.Join(tmp, "out"),
		local: filepath.Join(tmp, "local"), sp: filepath.Join(tmp, "savepoints")}
	c.keep.Put(t, filepath.Join(c.base, "PRECIOUS.txt"))
	c.keep.Put(t, filepath.Join(c.out, "PRECIOUS.txt"))
	c.keep.Put(t, filepath.Join(c.local, "PRECIOUS.txt"))
	c.keep.Put(t, filepath.Join(c.sp, "PRECIOUS.txt"))
	return c
}

// run starts one process of the job with a fresh job ID (whose job
// directory already holds precious files) and the given faults; it
// returns whether the process was killed, and moves the restore point to
// the newest complete checkpoint afterwards.
func (c *chain) run(env []string, killAfter time.Duration, killWhen func() bool) bool {
	t := c.t
	jobID := fmt.Sprintf("%016x%016x", c.rng.Uint64(), c.rng.Uint64())
	c.keep.Put(t, filepath.Join(c.base, jobID, "PRECIOUS.txt"))
	c.keep.Put(t, filepath.Join(c.base, jobID, "shared", "PRECIOUS.txt"))
	env = append(env, "FAULTS_BASE="+c.base, "FAULTS_OUT="+c.out, "FAULTS_LOCAL="+c.local, "FAULTS_RESTORE="+c.restore, "FAULTS_JOBID="+jobID)
	killed, stderr := runChild(t, "job", env, killAfter, killWhen)
	t.Logf("run: env=%v kill-after=%v restore=%q killed=%v", env[:len(env)-5], killAfter, c.restore, killed)
	if !killed {
		if strings.HasPrefix(stderr, "child failed") {
			t.Fatalf("%s", stderr)
		}
		t.Logf("the process finished: %s", strings.TrimSpace(stderr))
		c.finished = true
		return false
	}
	c.kills++
	got, want := committed(t, c.out), reference(jobRecords, jobKeys)
	if len(got) == len(want) && strings.Join(got, "\n") == strings.Join(want, "\n") {
		// The job finished (its final checkpoint committed everything,
		// and a FINISHED job discards its checkpoints) just before the
		// kill landed: resuming an older checkpoint now would replay
		// committed records, as it would in Flink.
		c.finished = true
		return true
	}
	found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), c.base)
	if err != nil && !storage.IsNotExist(err) {
		t.Fatal(err)
	}
	c.restore = ""
	if ok {
		c.restore = found.Dir
	}
	return true
}

// finish runs the job to its end (no faults) and checks the output and
// the precious files.
func (c *chain) finish() Row {
	t := c.t
	for i := 0; !c.finished && i < 3; i++ {
		c.run(nil, 0, nil)
	}
	if !c.finished {
		t.Fatal("the job never finished")
	}
	got, want := committed(t, c.out), reference(jobRecords, jobKeys)
	lost, dup, ex := lostAndDuplicated(got, want)
	if lost+dup > 0 {
		t.Errorf("after %d kills: %d records lost, %d duplicated: %s", c.kills, lost, dup, ex)
	}
	r := Row{Faults: c.kills, Lost: lost, Duplicated: dup, ForeignDeleted: c.keep.Check(t)}
	if lost+dup == 0 {
		r.Recovered = 1
	}
	return r
}

// Kills at a random storage call that changes something (inside a
// checkpoint's uploads, its _metadata, the discard of a subsumed one, the
// commit of the job's end) or at a random moment, up to three times.
func killCheckpointScenario(t *testing.T, seed int64) Row {
	c := newChain(t, seed)
	for i := 0; i < 3 && !c.finished; i++ {
		if i > 0 && c.rng.Intn(3) == 0 {
			break
		}
		if c.rng.Intn(4) == 0 {
			c.run(nil, time.Duration(150+c.rng.Intn(600))*time.Millisecond, nil)
		} else {
			c.run([]string{fmt.Sprintf("FAULTS_KILL_MUTATE=%d", 1+c.rng.Intn(160))}, 0, nil)
		}
	}
	if c.kills == 0 {
		t.Errorf("no process was killed (the job finished first): the scenario tested nothing")
	}
	return c.finish()
}

// Kills while a process restores: at a random read of the restore (the
// _metadata, the state files) before the job runs again.
func killRestoreScenario(t *testing.T, seed int64) Row {
	c := newChain(t, seed)
	// First a checkpoint to restore from: kill once one is complete.
	c.run(nil, 0, func() bool {
		_, ok, _ := checkpoint.FindLatest(context.Background(), storage.Default(), c.base)
		return ok
	})
	restoreKills := 0
	for i := 0; i < 3 && !c.finished && c.restore != ""; i++ {
		if i > 0 && c.rng.Intn(2) == 0 {
			break
		}
		before := c.restore
		// A restore makes 17 reads (Stat, Open, Read) before the job runs.
		if c.run([]string{fmt.Sprintf("FAULTS_KILL_READ=%d", 1+c.rng.Intn(17))}, 0, nil) {
			restoreKills++
			if c.restore != before {
				t.Logf("the kill landed after the restore (a newer checkpoint completed)")
			}
		}
	}
	if restoreKills == 0 {
		t.Errorf("no process was killed while restoring: the scenario tested nothing")
	}
	return c.finish()
}

// Kills a process at a random storage call of a savepoint it takes; the
// savepoint is then either complete (restorable) or visibly incomplete,
// and the job resumes from its newest checkpoint with nothing lost.
func killSavepointScenario(t *testing.T, seed int64) Row {
	c := newChain(t, seed)
	format := []string{"CANONICAL", "NATIVE"}[c.rng.Intn(2)]
	killed := c.run([]string{"FAULTS_SAVEPOINT=" + c.sp, "FAULTS_SP_FORMAT=" + format,
		fmt.Sprintf("FAULTS_SP_DELAY=%d", 100+c.rng.Intn(300)),
		fmt.Sprintf("FAULTS_KILL_SAVEPOINT=%d", 1+c.rng.Intn(11))}, 0, nil) // a canonical savepoint makes 11 calls
	sps, err := snapshot.ListSavepoints(context.Background(), storage.Default(), c.sp)
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) > 1 {
		t.Fatalf("savepoint dirs after the kill: %+v", sps)
	}
	if len(sps) == 0 {
		// Killed before the savepoint's directory existed, or the job
		// finished before a savepoint could be taken.
		t.Logf("no savepoint directory (killed=%v)", killed)
		r := c.finish()
		if !killed {
			r.Faults = 0
		}
		return r
	}
	_, lerr := checkpoint.LoadMetadata(context.Background(), storage.Default(), sps[0].URI)
	switch {
	case sps[0].Complete && lerr != nil:
		t.Errorf("%s looks complete but does not load: %v", sps[0].URI, lerr)
	case sps[0].Complete:
		if killed {
			t.Logf("the kill landed after the savepoint completed")
		}
		checkReferenced(t, sps[0].URI)
	case lerr == nil || !strings.Contains(lerr.Error(), "not a complete"):
		t.Errorf("restoring from the killed savepoint %s: %v, want a refusal", sps[0].URI, lerr)
	}
	if !killed {
		t.Logf("the savepoint completed before the k-th call; no kill")
	}
	r := c.finish()
	if !killed {
		r.Faults = 0
	}
	return r
}

// checkReferenced: every file a complete snapshot references is there.
func checkReferenced(t *testing.T, dir string) {
	t.Helper()
	m, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), dir)
	if err != nil {
		t.Errorf("%s: %v", dir, err)
		return
	}
	for _, u := range referencedFiles(m) {
		if _, err := os.Stat(localPath(u)); err != nil {
			t.Errorf("%s is complete but its file %s is missing: %v", dir, u, err)
		}
	}
}

func referencedFiles(m *snapshot.Metadata) []string {
	seen := map[string]bool{}
	var out []string
	m.Walk(func(v snapshot.Visit) {
		h, ok := v.Handle.(snapshot.StreamHandle)
		if !ok {
			return
		}
		if _, kg := h.(*snapshot.KeyGroupsHandle); kg {
			return
		}
		uri, ok, err := m.FileURI(h)
		if err != nil || !ok || uri == "" || seen[uri] {
			return
		}
		seen[uri] = true
		out = append(out, uri)
	})
	return out
}

// savepointSource is one savepoint per format, taken once by a job in this
// process, that dispose scenarios copy.
var (
	spMu            sync.Mutex
	savepointSource = map[string]string{}
)

func sourceSavepointLocked(t *testing.T, format string) string {
	spMu.Lock()
	defer spMu.Unlock()
	return sourceSavepoint(t, format)
}

func sourceSavepoint(t *testing.T, format string) string {
	t.Helper()
	if sp, ok := savepointSource[format]; ok {
		return sp
	}
	tmp, err := os.MkdirTemp("", "ckpt-faults-sp-")
	if err != nil {
		t.Fatal(err)
	}
	peers.AtExit(func() { os.RemoveAll(tmp) })
	job, err := engine.Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 0, 500, 20000), mustCfg(t,
		"execution.checkpointing.interval=50ms",
		"execution.checkpointing.dir="+filepath.Join(tmp, "ckpt"),
		"parallelism.default=2",
	), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	if !waitUntil(30*time.Second, func() bool { n, _ := completedCheckpoints(job); return n >= 2 }) {
		t.Fatal("no checkpoints")
	}
	ctx, cancel := ctxT(time.Minute)
	defer cancel()
	sp, err := job.Savepoint(ctx, filepath.Join(tmp, "sp"), snapshot.SavepointFormat(format))
	if err != nil {
		t.Fatal(err)
	}
	savepointSource[format] = sp
	return sp
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Kills a process disposing a savepoint at a random storage call. The
// savepoint is then untouched and complete, or marked as being disposed
// (no _metadata, only _metadata.disposing) and a second Dispose finishes
// it, or already disposed; precious files beside it and inside its
// directory survive.
func killDisposeScenario(t *testing.T, seed int64) Row {
	rng := rand.New(rand.NewSource(seed))
	format := []string{"CANONICAL", "NATIVE"}[rng.Intn(2)]
	src := sourceSavepointLocked(t, format)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "sp", filepath.Base(src))
	copyDir(t, src, dir)
	var keep precious
	keep.Put(t, filepath.Join(tmp, "sp", "PRECIOUS.txt"))
	keep.Put(t, filepath.Join(dir, "PRECIOUS-inside.txt"))
	m, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), dir)
	if err != nil {
		t.Fatal(err)
	}
	files := referencedFiles(m)
	// Dispose makes about (Lstat + Remove) per file, and a few more.
	k := 1 + rng.Intn(3*len(files)+12)
	killed, stderr := runChild(t, "dispose", []string{"FAULTS_DIR=" + dir, fmt.Sprintf("FAULTS_KILL_CALL=%d", k)}, 0, nil)
	t.Logf("dispose of %s (%d files) killed at call %d: %v %s", format, len(files), k, killed, stderr)
	if !killed && strings.HasPrefix(stderr, "child failed") {
		t.Fatal(stderr)
	}
	_, metaErr := os.Stat(filepath.Join(dir, snapshot.MetadataFileName))
	_, dispErr := os.Stat(filepath.Join(dir, snapshot.DisposingName))
	state := ""
	switch {
	case metaErr == nil && dispErr == nil:
		t.Errorf("both _metadata and %s exist", snapshot.DisposingName)
	case metaErr == nil:
		state = "untouched"
		checkReferenced(t, dir)
	case dispErr == nil:
		state = "disposing"
		if _, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), dir); err == nil {
			t.Errorf("a savepoint being disposed still loads")
		}
	default:
		state = "disposed"
	}
	if state != "untouched" {
		ctx, cancel := ctxT(time.Minute)
		d, err := snapshot.Dispose(ctx, storage.Default(), dir)
		cancel()
		if state == "disposing" && err != nil {
			t.Errorf("the second Dispose: %v", err)
		}
		if state == "disposed" && !errors.Is(err, snapshot.ErrNotSnapshot) {
			t.Errorf("the second Dispose of a disposed savepoint: %v", err)
		}
		for _, f := range files {
			if _, err := os.Stat(localPath(f)); err == nil {
				t.Errorf("%s: %s survived the disposal", state, f)
			}
		}
		t.Logf("%s; second Dispose: %s %v", state, d.Summary(), err)
	}
	r := Row{ForeignDeleted: keep.Check(t)}
	if killed {
		r.Faults = 1
	}
	if !t.Failed() {
		r.Recovered = 1
	}
	return r
}
