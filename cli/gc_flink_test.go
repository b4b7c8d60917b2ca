package cli

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// TestGCFlinkIncremental: issue 14's gc proof on real Flink 2.3 with
// RocksDB incremental checkpoints (num-retained 2). Three jobs under one
// root: a, cancelled with its checkpoints retained, and b and c, restored
// from a's newest checkpoint in NO_CLAIM mode, checkpointing every 300 ms.
// While b and c run, `ckpt gc --yes --min-age 0s`
// runs at random moments (seed logged; CKPT_KILL_SEED replays it) — with
// -m (the target's guard: held back while a checkpoint is in progress) and
// without (only the plan's own guards) in turn; each run's removed,
// already-gone and kept-on-a-second-look bytes add up to what its plan
// promised. Then b and c are cancelled (their checkpoints retained), a
// last gc removes exactly the bytes its plan promised, and every retained
// checkpoint of every job resumes in real Flink. A stale chk-0 and an old
// orphan planted in a's directory go; precious files beside
// them stay. Then job b's whole directory, copied with ckpt cp, resumes
// after the original is deleted. Cost: about 2.5 min here (a Flink start, 3 submissions, 25 s of
// checkpoints, about 6 resumes).
func TestGCFlinkIncremental(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	rng := rand.New(rand.NewPCG(killSeed(t), 140))
	p := peers.StartFlink(t, peers.FlinkOptions{Version: peers.FlinkVersion2, NumRetained: 2})
	var b [3]byte
	crand.Read(b[:])
	sfx := hex.EncodeToString(b[:])
	dir := t.TempDir()
	root := filepath.Join(dir, "checkpoints")
	job := func(name string) peers.FlinkJob {
		return peers.FlinkJob{Name: name, Backend: "rocksdb", Incremental: true, Parallelism: 2, Keys: 64, Rate: 2000,
			CheckpointInterval: 300 * time.Millisecond, CheckpointDir: root, SavepointDir: filepath.Join(dir, "savepoints"),
			Operators: []peers.FlinkOp{{Kind: "source", UID: "gen-" + sfx, Parallelism: 1}, {Kind: "count", UID: "count-" + sfx},
				{Kind: "sink", UID: "sink-" + sfx}},
			Config: map[string]string{"state.storage.fs.memory-threshold": "0", "execution.checkpointing.data-inline-threshold": "0"}}
	}
	// Job a checkpoints, then is cancelled (its checkpoints retained);
	// jobs b and c resume from its newest one in NO_CLAIM mode and run.
	a, err := p.Submit(job("gc-a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitCheckpoints(3); err != nil {
		t.Fatal(err)
	}
	if err := a.Cancel(); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitState("CANCELED", time.Minute); err != nil {
		t.Fatal(err)
	}
	from, err := snapshot.LatestCompleteCheckpoint(context.Background(), storage.NewLocal(), a.CheckpointsDir())
	if err != nil {
		t.Fatal(err)
	}
	var running []*peers.FlinkRun
	for _, name := range []string{"gc-b", "gc-c"} {
		out := p.ResumeWith(job(name), peers.FlinkRestore{Path: from.URI, ClaimMode: "NO_CLAIM"})
		if !out.OK {
			t.Fatalf("job %s did not resume from %s: %v", name, from.URI, out.Error)
		}
		if _, err := out.Run.WaitCheckpoints(2); err != nil {
			t.Fatal(err)
		}
		running = append(running, out.Run)
	}

	// Planted: a stale chk-0 and an old orphaned upload, with precious files beside.
	jobA := a.CheckpointsDir()
	old := time.Now().Add(-time.Hour)
	plant := func(p, content string) string {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		return p
	}
	staleFile := plant(filepath.Join(jobA, "chk-0", uuidName(1)), "stale upload")
	orphan := plant(filepath.Join(jobA, "shared", uuidName(2)), "orphaned upload")
	precious := map[string]string{
		plant(filepath.Join(jobA, "chk-0", "notes.txt"), "precious"):  "precious",
		plant(filepath.Join(jobA, "shared", "notes.txt"), "precious"): "precious",
		plant(filepath.Join(root, "README"), "precious"):              "precious",
	}

	runs, executed, heldBack, reclaimed, gone, kinds := 0, 0, 0, int64(0), int64(0), map[string]int{}
	gc := func(withTarget bool) gcJSON {
		t.Helper()
		args := []string{"gc", "--yes", "--json", "--min-age", "0s", "--journal", filepath.Join(dir, "journal.jsonl")}
		if withTarget {
			args = append(args, "-m", p.RESTURL()) // num-retained from the target
		} else {
			args = append(args, "--retained", "2")
		}
		code, stdout, stderr := runCkpt(t, append(args, root)...)
		if code != 0 && code != ExitGCHeldBack {
			t.Fatalf("ckpt gc: exit %d\n%s%s", code, stdout, stderr)
		}
		var js gcJSON
		if err := json.Unmarshal([]byte(stdout), &js); err != nil {
			t.Fatalf("ckpt gc --json: %v\n%s", err, stdout)
		}
		runs++
		if code == ExitGCHeldBack {
			heldBack++
		}
		if r := js.Result; r != nil {
			gone += r.GoneBytes
			executed++
			reclaimed += r.RemovedBytes
			for _, it := range js.Plan.Items {
				kinds[it.Kind]++
			}
			var skipped int64
			for _, s := range r.Skipped {
				skipped += s.Size
			}
			if r.RemovedBytes+r.GoneBytes+skipped != js.Plan.Bytes {
				t.Fatalf("gc removed %d + already gone %d + kept %d bytes, the plan promised %d", r.RemovedBytes, r.GoneBytes, skipped, js.Plan.Bytes)
			}
		}
		for f, c := range precious {
			if b, err := os.ReadFile(f); err != nil || string(b) != c {
				t.Fatalf("%s: %q, %v", f, b, err)
			}
		}
		return js
	}
	deadline := time.Now().Add(25 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		gc(i%2 == 0)
	}
	for _, r := range running {
		if st, err := r.State(); err != nil || st != "RUNNING" {
			t.Fatalf("job %s is %s (%v) after the gc runs", r.ID(), st, err)
		}
		if err := r.Cancel(); err != nil {
			t.Fatal(err)
		}
		if err := r.WaitState("CANCELED", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	last := gc(true)
	if r := last.Result; r != nil && (r.RemovedBytes != last.Plan.Bytes || r.Gone != 0 || len(r.Skipped) != 0) {
		t.Fatalf("with the jobs stopped, gc removed %d bytes (gone %d, kept %v); its plan promised %d", r.RemovedBytes, r.GoneBytes, r.Skipped, last.Plan.Bytes)
	}
	t.Logf("%d gc runs: %d with a plan to carry out, %d held back by the target; %d bytes reclaimed, %d gone before gc got there (Flink's own cleanup); items by kind %v",
		runs, executed, heldBack, reclaimed, gone, kinds)
	for _, f := range []string{staleFile, orphan} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("planted garbage %s is still there", f)
		}
	}

	// Every retained checkpoint of every job resumes.
	ctx := context.Background()
	fsys := storage.NewLocal()
	resumed := 0
	for _, r := range append(running, a) {
		cks, err := snapshot.ListCheckpoints(ctx, fsys, r.CheckpointsDir())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cks {
			if !c.Complete {
				continue
			}
			out := p.Resume(c.URI, false, job("resumed"))
			if !out.OK {
				t.Fatalf("Flink does not resume from %s after gc: %v", c.URI, out.Error)
			}
			if err := out.Run.Cancel(); err != nil {
				t.Fatal(err)
			}
			if err := out.Run.WaitState("CANCELED", time.Minute); err != nil {
				t.Fatal(err)
			}
			resumed++
		}
	}
	if resumed < 2 {
		t.Fatalf("only %d retained checkpoints to resume from", resumed)
	}
	t.Logf("resumed from %d retained checkpoints", resumed)

	// ckpt cp of job b's whole directory: with the original gone, its
	// newest checkpoint resumes from the copy.
	copied := filepath.Join(dir, "copied-job")
	if code, stdout, stderr := runCkpt(t, "cp", running[0].CheckpointsDir(), copied); code != 0 {
		t.Fatalf("ckpt cp of a job dir: exit %d\n%s%s", code, stdout, stderr)
	}
	if err := os.RemoveAll(running[0].CheckpointsDir()); err != nil {
		t.Fatal(err)
	}
	latest, err := snapshot.LatestCompleteCheckpoint(ctx, fsys, copied)
	if err != nil {
		t.Fatal(err)
	}
	out := p.Resume(latest.URI, false, job("from-copy"))
	if !out.OK {
		t.Fatalf("Flink does not resume from the copied job dir's %s: %v", latest.URI, out.Error)
	}
	if err := out.Run.Cancel(); err != nil {
		t.Fatal(err)
	}
	if err := out.Run.WaitState("CANCELED", time.Minute); err != nil {
		t.Fatal(err)
	}
}
