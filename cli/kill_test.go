package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

// killSeed is the seed of the SIGKILL tests: $CKPT_KILL_SEED replays a run.
func killSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CKPT_KILL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CKPT_KILL_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (CKPT_KILL_SEED=%d replays it)", seed, seed)
	return seed
}

func buildCkpt(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ckpt")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runKilled runs the binary and SIGKILLs it after d (unless it ended
// before); it reports whether the kill landed.
func runKilled(t *testing.T, bin string, d time.Duration, args ...string) (killed bool, took time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), JobManagerEnv+"=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ckpt %v failed before the kill: %v\n%s", args, err, out.String())
		}
		return false, time.Since(start)
	case <-time.After(d):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true, time.Since(start)
	}
}

func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), JobManagerEnv+"=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ckpt %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestSIGKILLCpAndGC kills the real binary at random points of `ckpt cp`
// and `ckpt gc --yes`. After every kill: a copy whose _metadata exists is
// whole (every file it references is there with the source's bytes) —
// _metadata is written last; a chk-N that still has _metadata has every
// file it references; the newest checkpoint and the precious files beside
// are untouched. A rerun completes, and ends where an uninterrupted run
// ends. Cost: about 10–20 s (one build, 8 kills of each).
func TestSIGKILLCpAndGC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCkpt(t)
	rng := rand.New(rand.NewPCG(killSeed(t), 14))
	const kills = 8

	t.Run("cp", func(t *testing.T) {
		root := t.TempDir()
		job := filepath.Join(root, gcJobA)
		var files []string
		for i := range 120 {
			b := make([]byte, 256<<10)
			for j := range b {
				b[j] = byte(i + j*7)
			}
			p := filepath.Join(job, "shared", uuidName(i))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
		sptest.WriteCheckpoint(t, storage.NewLocal(), job, 9, time.Now(), files...)
		src := filepath.Join(job, "chk-9")
		// How long a whole copy takes here, to kill within it.
		full := filepath.Join(root, "full")
		_, took := runKilled(t, bin, time.Minute, "cp", "--parallel", "2", src, full)
		t.Logf("an uninterrupted copy took %v", took)
		landed := 0
		for k := range kills {
			dst := filepath.Join(root, fmt.Sprintf("copy-%d", k))
			// Kill once, or twice in a row, then rerun.
			for range 1 + rng.IntN(2) {
				d := time.Duration(rng.Int64N(int64(took) + 1))
				killed, _ := runKilled(t, bin, d, "cp", "--parallel", "2", src, dst)
				if killed {
					landed++
				}
				checkCopy(t, dst, src, false)
			}
			runBin(t, bin, "cp", src, dst)
			checkCopy(t, dst, src, true)
		}
		t.Logf("%d kills landed mid-copy", landed)
	})

	t.Run("gc", func(t *testing.T) {
		landed := 0
		var want []string
		var gcDuration time.Duration
		for k := range kills + 1 {
			root, mustStay := gcKillScene(t)
			journal := filepath.Join(t.TempDir(), "j.jsonl")
			args := []string{"gc", "--yes", "--retained", "1", "--min-age", "0s", "--journal", journal, root}
			if k == 0 { // the uninterrupted run, for the time and the end state
				_, took := runKilled(t, bin, time.Minute, args...)
				t.Logf("an uninterrupted gc took %v", took)
				want = treeOf(t, root)
				gcDuration = took
				continue
			}
			for range 1 + rng.IntN(2) {
				d := time.Duration(rng.Int64N(int64(gcDuration) + 1))
				if killed, _ := runKilled(t, bin, d, args...); killed {
					landed++
				}
				checkStayed(t, root, mustStay)
				checkCompleteCheckpoints(t, root)
			}
			runBin(t, bin, args...)
			checkStayed(t, root, mustStay)
			if got := treeOf(t, root); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("after kills and a rerun:\n%s\nan uninterrupted gc leaves:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		t.Logf("%d kills landed mid-gc", landed)
	})
}

// gcKillScene: gcScene with more to delete — 150 orphans in job A, and a
// job C whose chk-1…chk-12 (10 private files each) lie beyond
// num-retained 1 behind its chk-13.
func gcKillScene(t *testing.T) (string, map[string]string) {
	root, mustStay := gcScene(t)
	old := time.Now().Add(-3 * time.Hour)
	for i := range 150 {
		p := filepath.Join(root, gcJobA, "shared", uuidName(1000+i))
		os.WriteFile(p, []byte("orphan"), 0o644)
		os.Chtimes(p, old, old)
	}
	jobC := filepath.Join(root, strings.Repeat("c", 32))
	for id := int64(1); id <= 13; id++ {
		var files []string
		for i := range 10 {
			p := filepath.Join(jobC, snapshot.CheckpointDirName(id), uuidName(int(2000+id*10)+i))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte("private"), 0o644)
			files = append(files, p)
			if id == 13 {
				rel, _ := filepath.Rel(root, p)
				mustStay[rel] = "private"
			}
		}
		sptest.WriteCheckpoint(t, storage.NewLocal(), jobC, id, old.Add(time.Duration(id)*time.Minute), files...)
	}
	return root, mustStay
}

func localOf(uri string) string {
	if loc, err := storage.Parse(uri); err == nil && loc.IsLocal() {
		return loc.LocalPath()
	}
	return uri
}

// checkCompleteCheckpoints: every chk-N under root holding _metadata has
// every file it references.
func checkCompleteCheckpoints(t *testing.T, root string) {
	t.Helper()
	ctx := context.Background()
	fsys := storage.NewLocal()
	jobs, err := snapshot.ListJobDirs(ctx, fsys, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		cks, err := snapshot.ListCheckpoints(ctx, fsys, j.URI)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cks {
			if !c.Complete {
				continue
			}
			m, err := snapshot.Read(ctx, fsys, c.URI)
			if err != nil {
				t.Fatalf("%s looks complete but does not read: %v", c.URI, err)
			}
			for _, f := range inspector.CollectFiles(m) {
				if f.URI == "" {
					continue
				}
				if _, err := fsys.Stat(ctx, f.URI); err != nil {
					t.Fatalf("%s looks complete but %s is gone", c.URI, f.URI)
				}
			}
		}
	}
}

// checkCopy: a copy with _metadata references only files that are there
// with the source's bytes; whole demands the _metadata.
func checkCopy(t *testing.T, dst, src string, whole bool) {
	t.Helper()
	ctx := context.Background()
	fsys := storage.NewLocal()
	if _, err := os.Stat(filepath.Join(dst, snapshot.MetadataFileName)); err != nil {
		if whole {
			t.Fatalf("%s: no _metadata after a completed copy", dst)
		}
		return
	}
	m, err := snapshot.Read(ctx, fsys, dst)
	if err != nil {
		t.Fatalf("%s has _metadata that does not read: %v", dst, err)
	}
	srcM, err := snapshot.Read(ctx, fsys, src)
	if err != nil {
		t.Fatal(err)
	}
	got, want := inspector.CollectFiles(m), inspector.CollectFiles(srcM)
	if len(got) != len(want) {
		t.Fatalf("%s references %d files, the source %d", dst, len(got), len(want))
	}
	for i := range got {
		a, err1 := os.ReadFile(localOf(got[i].URI))
		b, err2 := os.ReadFile(localOf(want[i].URI))
		if err1 != nil || err2 != nil || sha256.Sum256(a) != sha256.Sum256(b) {
			t.Fatalf("%s looks complete, but %s is not a whole copy of %s (%v, %v)", dst, got[i].URI, want[i].URI, err1, err2)
		}
	}
}
