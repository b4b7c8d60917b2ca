package engine

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// The crash child runs the exactly-once job in its own process, restoring
// from CKPT_CRASH_RESTORE when set, and can SIGKILL itself in the middle
// of a checkpoint's upload or just before a _metadata write.
const crashChildEnv = "CKPT_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) == "1" {
		os.Exit(crashChild())
	}
	code := m.Run()
	peers.StopHDFS()
	os.Exit(code)
}

const (
	crashRecords = 6000
	crashKeys    = 37
)

func crashChild() int {
	base, out, restore := os.Getenv("CKPT_CRASH_DIR"), os.Getenv("CKPT_CRASH_OUT"), os.Getenv("CKPT_CRASH_RESTORE")
	killSelf := func() { syscall.Kill(os.Getpid(), syscall.SIGKILL); time.Sleep(time.Hour) }
	if n, _ := strconv.Atoi(os.Getenv("CKPT_KILL_AT_UPLOAD")); n > 0 {
		count := 0
		checkpoint.UploadHook = func(id int64, uri string) {
			if count++; count == n {
				killSelf()
			}
		}
	}
	if n, _ := strconv.ParseInt(os.Getenv("CKPT_KILL_BEFORE_METADATA"), 10, 64); n > 0 {
		checkpoint.MetadataHook = func(id int64) {
			if id >= n {
				killSelf()
			}
		}
	}
	c := []string{
		"execution.checkpointing.interval=40ms",
		"execution.checkpointing.dir=" + base,
		"execution.checkpointing.num-retained=2",
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		"ckpt.local-dir=" + os.Getenv("CKPT_CRASH_LOCAL"),
		"parallelism.default=2",
	}
	if restore != "" {
		c = append(c, "execution.state-recovery.path="+restore)
	}
	cf := cfgOrExit(c)
	job, err := Submit(context.Background(), countsJob(out, crashRecords, crashKeys, 8000, 2, nil), cf, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "submit:", err)
		return 1
	}
	if spDir := os.Getenv("CKPT_CRASH_SAVEPOINT"); spDir != "" {
		// Kill the process in the middle of a savepoint's upload.
		time.Sleep(200 * time.Millisecond)
		checkpoint.UploadHook = func(id int64, uri string) {
			if strings.Contains(uri, "savepoint-") {
				killSelf()
			}
		}
		job.Savepoint(context.Background(), spDir, snapshot.FormatNative)
		fmt.Fprintln(os.Stderr, "savepoint completed without being killed")
		return 3
	}
	st, err := job.Wait()
	if st != Finished {
		fmt.Fprintln(os.Stderr, "job:", st, err)
		return 1
	}
	return 0
}

func cfgOrExit(kv []string) *config.Config {
	c := config.New()
	for _, a := range kv {
		if err := c.SetDynamic(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	return c
}

// runCrashChild runs one child; kill > 0 SIGKILLs it after that long.
func runCrashChild(t *testing.T, base, local, out, restore string, env []string, kill time.Duration) (killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", "CKPT_CRASH_DIR="+base, "CKPT_CRASH_OUT="+out,
		"CKPT_CRASH_RESTORE="+restore, "CKPT_CRASH_LOCAL="+local)
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if kill > 0 {
		timer = time.After(kill)
	}
	select {
	case err := <-done:
		if err == nil {
			return false
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true // killed itself in a hook
		}
		t.Fatalf("child failed: %v\n%s", err, stderr.String())
	case <-timer:
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child hung\n%s", stderr.String())
	}
	return false
}

// TestExactlyOnceAcrossSIGKILL kills whole processes running the
// exactly-once job at random moments — and, in some runs, inside a
// checkpoint's upload or right before its _metadata is written — and
// resumes each time from the latest retained complete checkpoint found on
// disk. The committed output must equal the reference exactly.
func TestExactlyOnceAcrossSIGKILL(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	if n, err := strconv.Atoi(os.Getenv("CKPT_CRASH_SEEDS")); err == nil && n > 0 {
		seeds = n // a longer soak: CKPT_CRASH_SEEDS=100 go test ./engine -run SIGKILL
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			crashScenario(t, int64(seed), filepath.Join(tmp, "ckpt"), tmp)
		})
	}
}

// crashScenario runs the exactly-once job with checkpoints under base (a
// local path or an hdfs:// URI) and local files under tmp.
func crashScenario(t *testing.T, seed int64, base, tmp string) {
	rng := rand.New(rand.NewSource(seed))
	out := filepath.Join(tmp, "out")
	local := filepath.Join(tmp, "local")
	restore := ""
	kills := 0
	for run := 0; run < 20; run++ {
		var env []string
		var kill time.Duration
		switch {
		case run < 3 && rng.Intn(3) == 0:
			env = append(env, fmt.Sprintf("CKPT_KILL_AT_UPLOAD=%d", 2+rng.Intn(12)))
		case run < 3 && rng.Intn(2) == 0:
			env = append(env, fmt.Sprintf("CKPT_KILL_BEFORE_METADATA=%d", 2+rng.Intn(6)))
		case run < 3:
			kill = time.Duration(150+rng.Intn(500)) * time.Millisecond
		}
		killed := runCrashChild(t, base, local, out, restore, env, kill)
		t.Logf("run %d: env=%v kill-after=%v restore=%q killed=%v", run, env, kill, restore, killed)
		if !killed {
			break
		}
		kills++
		if finishedBeforeKill(t, out) {
			// The job finished (its final checkpoint committed everything
			// and, as in Flink, a FINISHED job discards its checkpoints)
			// just before the kill landed: resuming an older checkpoint
			// now would replay committed records, as it would in Flink.
			t.Logf("run %d: the job had finished before the kill landed", run)
			break
		}
		found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), base)
		if err != nil && !storage.IsNotExist(err) {
			t.Fatal(err)
		}
		restore = ""
		if ok {
			restore = found.Dir
			// A chk-N without _metadata is never picked, and loading one fails.
			if !strings.HasPrefix(base, "hdfs:") {
				assertNoNewerIncomplete(t, base, found.ID)
			}
		}
	}
	if kills == 0 {
		t.Errorf("no run was killed (the job finished first): the scenario tested nothing")
	}
	got, want := committed(t, out), reference(crashRecords, crashKeys)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after %d kills: %s", kills, diff(got, want))
	}
}

// finishedBeforeKill tells whether the committed output is already the
// whole reference: only a job's final checkpoint commits the last records,
// so a complete output means the killed process had finished its job.
func finishedBeforeKill(t *testing.T, out string) bool {
	if _, err := os.Stat(out); err != nil {
		return false
	}
	got, want := committed(t, out), reference(crashRecords, crashKeys)
	return strings.Join(got, "\n") == strings.Join(want, "\n")
}

// assertNoNewerIncomplete checks that any chk-M (M > latest) left by a
// crash lacks _metadata and is refused by LoadMetadata.
func assertNoNewerIncomplete(t *testing.T, base string, latest int64) {
	jobs, _ := os.ReadDir(base)
	for _, j := range jobs {
		chks, _ := os.ReadDir(filepath.Join(base, j.Name()))
		for _, c := range chks {
			id, err := strconv.ParseInt(strings.TrimPrefix(c.Name(), "chk-"), 10, 64)
			if err != nil || id <= latest {
				continue
			}
			dir := filepath.Join(base, j.Name(), c.Name())
			if _, err := os.Stat(filepath.Join(dir, "_metadata")); err == nil {
				t.Fatalf("%s has _metadata but FindLatest returned chk-%d", dir, latest)
			}
			if _, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), dir); err == nil ||
				!strings.Contains(err.Error(), "not a complete checkpoint") {
				t.Fatalf("LoadMetadata(%s) = %v, want a refusal", dir, err)
			}
		}
	}
}

// A savepoint interrupted by SIGKILL leaves nothing that looks complete:
// its directory has no _metadata, listing marks it incomplete, and
// restoring from it is refused.
func TestSavepointKilledMidUpload(t *testing.T) {
	tmp := t.TempDir()
	spDir := filepath.Join(tmp, "savepoints")
	if !runCrashChild(t, filepath.Join(tmp, "ckpt"), filepath.Join(tmp, "local"), filepath.Join(tmp, "out"), "",
		[]string{"CKPT_CRASH_SAVEPOINT=" + spDir}, 0) {
		t.Fatal("the child was not killed")
	}
	sps, err := snapshot.ListSavepoints(context.Background(), storage.Default(), spDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != 1 {
		t.Fatalf("savepoint dirs: %+v", sps)
	}
	if sps[0].Complete {
		t.Fatalf("%s looks complete after a kill mid-upload", sps[0].URI)
	}
	if _, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), sps[0].URI); err == nil ||
		!strings.Contains(err.Error(), "not a complete checkpoint or savepoint") {
		t.Fatalf("restoring from the killed savepoint: %v", err)
	}
}
