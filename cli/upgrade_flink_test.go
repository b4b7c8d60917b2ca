package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/cluster/upgrade"
	"github.com/ckpt-dev/ckpt/peers"
)

// TestUpgradeFlink: ckpt upgrade against real Flink 2.3 and 1.20 with the peer's
// jar. v1 runs; the upgrade to v2 (one more stateless operator) works —
// the old jar given with --rollback-jar, the jar dry run reported as a
// warning; then v2 is upgraded to v3, whose snapshots outlast the
// checkpoint timeout, so its first checkpoint expires and the job fails
// after it started: ckpt rolls back to v2 (known from the first
// upgrade's journal, no --rollback-jar) from the same savepoint, and the
// job ends RUNNING on v2, restored from it; an upgrade to v4, whose
// count lost its uid, is refused by the jar's dry run before anything is
// stopped on 2.3, and rolled back on 1.20 (see below). REST calls get 2 minutes: a
// jar run on a loaded machine takes longer than the default 15 s. Cost:
// about 2.5 min here — a Flink start (about 65 s on a busy machine), a
// submission and about 30 s of upgrades.
func TestUpgradeFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	for _, v := range peers.FlinkVersions {
		t.Run("flink-"+v, func(t *testing.T) { upgradeOnFlink(t, v) })
	}
}

func upgradeOnFlink(t *testing.T, version string) {
	tmp := t.TempDir()
	t.Setenv("CKPT_STATE_DIR", filepath.Join(tmp, "state"))
	t.Setenv("CKPT_CONFIG", filepath.Join(tmp, "none.yaml"))
	p := peers.StartFlink(t, peers.FlinkOptions{Version: version})
	url := p.RESTURL()
	sps := filepath.Join(tmp, "savepoints")
	job := func(extra ...peers.FlinkOp) peers.FlinkJob {
		ops := peers.DefaultFlinkOperators()
		ops = append(ops[:2:2], append(extra, ops[2])...)
		return peers.FlinkJob{Parallelism: 2, Rate: 200, CheckpointInterval: 300 * time.Millisecond,
			CheckpointDir: filepath.Join(tmp, "checkpoints"), SavepointDir: sps, Operators: ops}
	}
	args := func(j peers.FlinkJob) []string {
		a, err := p.ProgramArgs(j)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	v1, v2 := job(), job(peers.FlinkOp{Kind: "map", UID: "ones"})
	v3 := job(peers.FlinkOp{Kind: "map", UID: "ones"}, peers.FlinkOp{Kind: "slowsnapshot", UID: "slow", SleepMs: 20000})
	v3.Config = map[string]string{"execution.checkpointing.timeout": "2 s", "execution.checkpointing.tolerable-failed-checkpoints": "0"}

	code, out, errOut := runCkpt(t, append([]string{"submit", "-m", url, "--rest-timeout", "2m", "-c", peers.FlinkJobEntryClass, p.JobJar()}, args(v1)...)...)
	if code != ExitOK {
		t.Fatalf("submit: %s%s", out, errOut)
	}
	id1 := submittedID(t, out)
	waitCheckpoints(t, url, id1, 2)

	// v1 → v2 works.
	start := time.Now()
	rb := []string{"--rollback-jar", p.JobJar(), "--rollback-class", peers.FlinkJobEntryClass}
	for _, a := range args(v1) {
		rb = append(rb, "--rollback-arg="+a)
	}
	r := runUpgradeJSON(t, ExitOK, append(append([]string{"-m", url, "--rest-timeout", "2m", "--savepoint-dir", sps, "-c", peers.FlinkJobEntryClass, id1, p.JobJar()},
		rb...), append([]string{"--"}, args(v2)...)...)...)
	if r.Outcome != upgrade.Upgraded || r.DryRun == nil || r.DryRun.Verdict != upgrade.Warn || !strings.Contains(r.DryRun.Summary, "max parallelism not checked") {
		t.Fatalf("v2: %+v", r)
	}
	restoredFrom(t, url, r.NewJobID, r.Savepoint)
	t.Logf("v1 → v2 upgraded in %v", time.Since(start))

	// v2 → v3 fails after it starts: rolled back to v2.
	start = time.Now()
	id2 := r.NewJobID
	r = runUpgradeJSON(t, ExitUpgradeRolledBack, append([]string{"-m", url, "--rest-timeout", "2m", "--savepoint-dir", sps, "--timeout", "30s",
		"-c", peers.FlinkJobEntryClass, id2, p.JobJar(), "--"}, args(v3)...)...)
	if r.Outcome != upgrade.RolledBack || r.RollbackJobID == "" || r.Old == nil || strings.Join(r.Old.Args, " ") != strings.Join(args(v2), " ") {
		t.Fatalf("v3: %+v", r)
	}
	t.Logf("v2 → v3 rolled back in %v: %s", time.Since(start), r.Reason)
	restoredFrom(t, url, r.RollbackJobID, r.Savepoint)
	if _, err := os.Stat(filepath.Join(localPath(r.Savepoint), "_metadata")); err != nil {
		t.Fatalf("the savepoint is gone after the rollback: %v", err)
	}
	c, _ := flinkrest.New(url, flinkrest.Options{})
	if j, err := c.Job(context.Background(), r.NewJobID); err != nil || !j.Status.Terminal() {
		t.Fatalf("the failed v3 job %s: %+v %v", r.NewJobID, j, err)
	}

	// v2 → v4, whose count lost its uid: Flink's plan of the jar has no
	// operator for the count state. A 2.x checkpoint records its
	// operators' uids, so the preflight refuses before anything is stopped
	// — no savepoint, the job runs on. A 1.20 checkpoint records none: the
	// count state might belong to an operator without a uid, whose ID the
	// plan cannot give, so the preflight warns (UNKNOWN); Flink then
	// refuses the restore and ckpt rolls back to v2 from the savepoint.
	id3 := r.RollbackJobID
	before, _ := os.ReadDir(sps)
	v4 := job(peers.FlinkOp{Kind: "map", UID: "ones"})
	v4.Operators[1].UID = "count-renamed"
	v4args := append([]string{"-m", url, "--rest-timeout", "2m", "--savepoint-dir", sps, "--timeout", "1m",
		"-c", peers.FlinkJobEntryClass, id3, p.JobJar(), "--"}, args(v4)...)
	if version == peers.FlinkVersion120 {
		r = runUpgradeJSON(t, ExitUpgradeRolledBack, v4args...)
		if r.Outcome != upgrade.RolledBack || r.Preflight == nil || r.Preflight.Verdict != upgrade.Warn || r.RollbackJobID == "" {
			t.Fatalf("v4 on 1.20: %+v", r)
		}
		t.Logf("v2 → v4 on 1.20: preflight %q; dry run %+v; rolled back: %s", r.Preflight.Summary, r.DryRun, r.Reason)
		restoredFrom(t, url, r.RollbackJobID, r.Savepoint)
		return
	}
	r = runUpgradeJSON(t, ExitSubmitDropsState, v4args...)
	if r.Outcome != upgrade.Refused || r.Preflight == nil || r.Preflight.Verdict != upgrade.Refuse || r.Savepoint != "" {
		t.Fatalf("v4: %+v", r)
	}
	if after, _ := os.ReadDir(sps); len(after) != len(before) {
		t.Fatalf("a refused upgrade took a savepoint: %d entries in %s, were %d", len(after), sps, len(before))
	}
	if j, err := c.Job(context.Background(), id3); err != nil || j.Status != cluster.JobRunning {
		t.Fatalf("after a refused upgrade, job %s: %+v %v", id3, j, err)
	}
}

// restoredFrom checks job id RUNNING, restored from savepoint sp, with a
// checkpoint completed since.
func restoredFrom(t *testing.T, url, id, sp string) {
	t.Helper()
	c, err := flinkrest.New(url, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Job(context.Background(), id)
	if err != nil || j.Status != cluster.JobRunning {
		t.Fatalf("job %s: %+v %v", id, j, err)
	}
	st := waitCheckpoints(t, url, id, 1)
	if r := st.LatestRestored; r == nil || localPath(r.ExternalPath) != localPath(sp) {
		t.Fatalf("job %s restored from %+v, want %s", id, st.LatestRestored, sp)
	}
}
