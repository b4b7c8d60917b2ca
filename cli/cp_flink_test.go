package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// checkpointCopiesResume: a RocksDB incremental retained checkpoint of
// real Flink (files in chk-N and SSTs in the job's shared/) is copied to
// the real HDFS with `ckpt cp` and rewritten locally with `ckpt rewrite
// --rename`; then the job's checkpoint directory is deleted and the HDFS
// copy copied back to local disk. The job resumes from the HDFS copy and
// from the copy back, and the renamed job from the rewrite, all
// without -n, and each counts every record from the first: the state came
// from the copies alone. It runs on the cluster of TestRewriteResumesInFlink.
func checkpointCopiesResume(t *testing.T, p *peers.FlinkPeer) {
	const keys = 8
	h := peers.HDFS(t)
	base := h.BaseURI(t)
	var b [3]byte
	rand.Read(b[:])
	sfx := hex.EncodeToString(b[:])
	dir := t.TempDir()
	job := func(name, countUID string) peers.FlinkJob {
		return peers.FlinkJob{Name: name, Backend: "rocksdb", Incremental: true, Parallelism: 2, Keys: keys, Rate: 400,
			CheckpointInterval: time.Hour, CheckpointDir: filepath.Join(dir, "checkpoints"), SavepointDir: filepath.Join(dir, "savepoints"),
			Operators: []peers.FlinkOp{{Kind: "source", UID: "gen-" + sfx, Parallelism: 1}, {Kind: "count", UID: countUID},
				{Kind: "sink", UID: "sink-" + sfx}},
			Config: map[string]string{"state.storage.fs.memory-threshold": "0", "execution.checkpointing.data-inline-threshold": "0"}}
	}
	count, count2 := "count-"+sfx, "count2-"+sfx
	run, err := p.Submit(job("v1", count))
	if err != nil {
		t.Fatal(err)
	}
	// Two checkpoints triggered by hand (none periodic, so none subsumes
	// them before the cancel): the second references the first's SSTs.
	var id int64
	for range 2 {
		time.Sleep(300 * time.Millisecond)
		if id, err = run.TriggerCheckpoint(false); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.Cancel(); err != nil {
		t.Fatal(err)
	}
	chk := filepath.Join(run.CheckpointsDir(), fmt.Sprintf("chk-%d", id))
	n := total(readLongState(t, chk, count, "count"))
	if n == 0 {
		t.Fatal("the checkpoint holds no counts")
	}

	remote := storage.Join(base, "chk-copy")
	if code, stdout, stderr := runCkpt(t, "cp", chk, remote); code != 0 {
		t.Fatalf("ckpt cp: exit %d\n%s%s", code, stdout, stderr)
	} else {
		t.Logf("ckpt cp:\n%s", stdout)
	}
	// ckpt state reads the HDFS copy (its SST files through HDFS) exactly
	// as the local checkpoint: schema and every entry of the count state.
	stateOnHDFSMatchesLocal(t, chk, remote, count, "count")
	rewritten := filepath.Join(dir, "rewritten")
	if code, stdout, stderr := runCkpt(t, "rewrite", "--rename", count+"="+count2, chk, rewritten); code != 0 {
		t.Fatalf("ckpt rewrite: exit %d\n%s%s", code, stdout, stderr)
	} else {
		t.Logf("ckpt rewrite:\n%s", stdout)
	}
	// The original checkpoints, shared/ included, are gone.
	if err := os.RemoveAll(filepath.Join(dir, "checkpoints")); err != nil {
		t.Fatal(err)
	}
	// And back: the HDFS copy copied to local disk again.
	back := filepath.Join(dir, "back", "chk-copy")
	if err := os.MkdirAll(filepath.Dir(back), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCkpt(t, "cp", remote, back); code != 0 {
		t.Fatalf("ckpt cp back: exit %d\n%s%s", code, stdout, stderr)
	}

	for _, c := range []struct {
		from, countUID string
	}{{remote, count}, {back, count}, {rewritten, count2}} {
		out := p.Resume(c.from, false, job("resumed", c.countUID))
		if !out.OK {
			t.Fatalf("Flink did not resume from %s without -n: %v", c.from, out.Error)
		}
		time.Sleep(300 * time.Millisecond)
		sp := stopWithSavepoint(t, out.Run, peers.SavepointCanonical)
		counts := readLongState(t, sp, c.countUID, "count")
		s := total(counts)
		if s < n {
			t.Fatalf("resumed from %s: %d records counted, fewer than the %d in the checkpoint", c.from, s, n)
		}
		for k := int64(0); k < keys; k++ {
			if want := countBelow(s, k, keys); counts[k] != want {
				t.Errorf("resumed from %s, key %d: count %d, want %d (records 0..%d)", c.from, k, counts[k], want, s-1)
			}
		}
	}
}
