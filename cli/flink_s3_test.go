package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// TestFlinkOnS3 is real Flink writing to object storage: each Flink line
// the peer is built for (2.x and 1.20) checkpoints (RocksDB, incremental:
// chk-N, shared/ and taskowned/) and takes a savepoint into the real S3
// server through Flink's own s3-fs-hadoop plugin, configured the way an
// operator configures it (s3.endpoint, s3.path.style.access, keys). Then
// ckpt, configured by the same Flink configuration file, browses those
// snapshots (ls), inspects them (every referenced file found on S3),
// computes orphans (a foreign file in shared/ is reported and stays), dry
// runs resumes into matching and mismatching jobs (--against), and Flink
// resumes from the S3 savepoint with every count intact.
//
// Cost: about 40 s a Flink line (2 min on a 2-core machine under heavy
// load): JVM start, three checkpoints, a savepoint, a resume, a stop with
// savepoint.
func TestFlinkOnS3(t *testing.T) {
	s3p := peers.S3(t)
	confDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(s3p.FlinkConf()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range peers.FlinkVersions {
		t.Run("flink-"+v, func(t *testing.T) { flinkOnS3(t, s3p, confDir, v) })
	}
}

// s3FlinkConfig is the cluster configuration pointing Flink's S3
// filesystem at the peer: the keys of the peer's config.yaml.
func s3FlinkConfig(p *peers.S3Peer) map[string]string {
	conf := map[string]string{}
	for _, line := range strings.Split(p.FlinkConf(), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			conf[k] = v
		}
	}
	return conf
}

func flinkOnS3(t *testing.T, s3p *peers.S3Peer, confDir, version string) {
	const keys = 8
	start := time.Now()
	ctx := context.Background()
	fsys := storage.NewRouter(storage.Options{FlinkConfDir: confDir})
	ckpt := func(args ...string) (int, string, string) {
		t.Helper()
		return runCkpt(t, append([]string{"--flink-conf-dir", confDir}, args...)...)
	}
	base := s3p.BaseURI(t)
	var b [3]byte
	rand.Read(b[:])
	sfx := hex.EncodeToString(b[:])
	src, count, sink := "gen-"+sfx, "count-"+sfx, "sink-"+sfx
	job := peers.FlinkJob{Name: "on-s3", Backend: "rocksdb", Incremental: true, Parallelism: 2, Keys: keys, Rate: 400,
		CheckpointInterval: 400 * time.Millisecond,
		CheckpointDir:      base + "/checkpoints", SavepointDir: base + "/savepoints",
		Operators: []peers.FlinkOp{{Kind: "source", UID: src, Parallelism: 1}, {Kind: "count", UID: count}, {Kind: "sink", UID: sink}},
		// Every piece of state in a file of its own, none inline in _metadata.
		Config: map[string]string{"state.storage.fs.memory-threshold": "0", "execution.checkpointing.data-inline-threshold": "0"}}

	p := peers.StartFlink(t, peers.FlinkOptions{Version: version, Config: s3FlinkConfig(s3p), NumRetained: 2})
	run, err := p.Submit(job)
	if err != nil {
		t.Fatalf("submitting a job checkpointing to %s: %v", base, err)
	}
	chk, err := run.WaitCheckpoints(3)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := run.TriggerSavepoint("", peers.SavepointCanonical)
	if err != nil {
		t.Fatalf("savepoint into %s: %v", job.SavepointDir, err)
	}
	if err := run.Cancel(); err != nil {
		t.Fatal(err)
	}
	jobDir := run.CheckpointsDir()
	for _, u := range []string{chk, sp, jobDir} {
		if !strings.HasPrefix(u, "s3://"+s3p.Bucket+"/") {
			t.Fatalf("Flink reported %s, not on the S3 peer's bucket", u)
		}
	}
	t.Logf("Flink %s: checkpoint %s, savepoint %s", version, chk, sp)

	// Browse: the checkpoint root lists the job, the job its chk-N and
	// shared/, the savepoint its _metadata.
	for _, c := range []struct{ dir, want string }{
		{job.CheckpointDir, run.ID()},
		{jobDir, storage.Base(chk)},
		{jobDir, "shared"},
		{sp, "_metadata"},
	} {
		code, stdout, stderr := ckpt("ls", c.dir)
		if code != 0 || !strings.Contains(stdout, c.want) {
			t.Errorf("ckpt ls %s: exit %d, want %q listed:\n%s%s", c.dir, code, c.want, stdout, stderr)
		}
	}

	// Inspect: every file the snapshots reference is found on S3.
	for _, snap := range []string{chk, sp} {
		code, stdout, stderr := ckpt("inspect", "--json", snap)
		if code != 0 {
			t.Fatalf("ckpt inspect %s: exit %d\n%s%s", snap, code, stdout, stderr)
		}
		var rep struct {
			CheckpointID int64 `json:"checkpoint_id"`
			Operators    []struct {
				UID string `json:"uid"`
			} `json:"operators"`
			Totals struct {
				Files   int `json:"files"`
				Missing int `json:"missing"`
			} `json:"totals"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("ckpt inspect --json %s: %v\n%s", snap, err, stdout)
		}
		if rep.Totals.Files == 0 || rep.Totals.Missing != 0 {
			t.Errorf("ckpt inspect %s: %d files referenced, %d missing; want some, none missing", snap, rep.Totals.Files, rep.Totals.Missing)
		}
		if version == peers.FlinkVersion2 {
			var uids []string
			for _, op := range rep.Operators {
				uids = append(uids, op.UID)
			}
			if got := strings.Join(uids, ","); !strings.Contains(got, count) {
				t.Errorf("ckpt inspect %s: operators %s, want %s among them", snap, got, count)
			}
		}
	}

	// Orphans: a file in shared/ that no retained checkpoint references is
	// reported, and stays where it is.
	precious := storage.Join(jobDir, "shared", "precious-foreign-"+sfx)
	if err := storage.WriteFile(ctx, fsys, precious, []byte("not Flink's"), storage.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := ckpt("du", "--orphans", "--json", jobDir)
	if code != 0 {
		t.Fatalf("ckpt du --orphans %s: exit %d\n%s%s", jobDir, code, stdout, stderr)
	}
	var orph struct {
		Jobs []struct {
			Checkpoints       []int64  `json:"checkpoints"`
			ReferencedFiles   int64    `json:"referenced_files"`
			MissingReferenced []string `json:"missing_referenced"`
			Orphans           []struct {
				URI string `json:"uri"`
			} `json:"orphans"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(stdout), &orph); err != nil || len(orph.Jobs) != 1 {
		t.Fatalf("ckpt du --orphans --json: %v\n%s", err, stdout)
	}
	j := orph.Jobs[0]
	var found bool
	for _, o := range j.Orphans {
		found = found || o.URI == precious
	}
	if !found || len(j.Checkpoints) == 0 || j.ReferencedFiles == 0 || len(j.MissingReferenced) != 0 {
		t.Errorf("ckpt du --orphans %s: checkpoints %v, %d referenced, missing %v, orphans %v; want the foreign %s among the orphans",
			jobDir, j.Checkpoints, j.ReferencedFiles, j.MissingReferenced, j.Orphans, precious)
	}
	if _, err := fsys.Stat(ctx, precious); err != nil {
		t.Fatalf("the foreign file in shared/ is gone after du --orphans: %v", err)
	}

	// Dry runs: into the same operators, everything restores (exit 0);
	// into a job without the counter, its state would be dropped (exit 3).
	all, noCount := strings.Join([]string{src, count, sink}, ","), strings.Join([]string{src, sink}, ",")
	if code, stdout, stderr := ckpt("inspect", "--against", all, sp); code != 0 {
		t.Errorf("ckpt inspect --against %s %s: exit %d, want 0\n%s%s", all, sp, code, stdout, stderr)
	}
	// The dropped state is named by its uid (Flink 2.x records uids) or
	// by the operator ID the uid hashes to (1.20 does not).
	countID := snapshot.OperatorIDFromUID(count).String()
	if code, stdout, stderr := ckpt("inspect", "--against", noCount, sp); code != 3 || !strings.Contains(stdout, countID) {
		t.Errorf("ckpt inspect --against %s %s: exit %d, want 3 naming %s (%s)\n%s%s", noCount, sp, code, count, countID, stdout, stderr)
	}

	// Flink resumes from the S3 savepoint: the counts go on from it.
	n := total(readLongStateIn(t, fsys, sp, count, "count"))
	if n == 0 {
		t.Fatal("the savepoint holds no counts")
	}
	resumed := job
	resumed.Name = "on-s3-resumed"
	out := p.Resume(sp, false, resumed)
	if !out.OK {
		t.Fatalf("Flink %s did not resume from %s: %v", version, sp, out.Error)
	}
	time.Sleep(300 * time.Millisecond)
	sp2, err := out.Run.StopWithSavepoint("", false)
	if err != nil {
		t.Fatal(err)
	}
	counts := readLongStateIn(t, fsys, sp2, count, "count")
	s := total(counts)
	if s < n {
		t.Fatalf("resumed from %s: %d records counted, fewer than the %d in the savepoint", sp, s, n)
	}
	for k := int64(0); k < keys; k++ {
		if want := countBelow(s, k, keys); counts[k] != want {
			t.Errorf("resumed from %s, key %d: count %d, want %d (records 0..%d)", sp, k, counts[k], want, s-1)
		}
	}
	t.Logf("Flink %s on S3: %d records in the savepoint, %d after the resume; %v", version, n, s, time.Since(start).Round(time.Second))
}
