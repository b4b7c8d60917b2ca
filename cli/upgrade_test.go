package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/cluster/upgrade"
	"github.com/ckpt-dev/ckpt/engine/config"
)

// v2 of controlSpec adds a stateless step; v3 also fails after 20
// records, again after every restart; v4 renames the counter, whose
// state would then be dropped.
var (
	upgradeV2 = strings.Replace(controlSpec, "  - op: discard\n", "  - op: map\n    fn: value-one\n    uid: ones\n  - op: discard\n", 1)
	upgradeV3 = strings.Replace(upgradeV2, "  - op: discard\n", "  - op: fail\n    uid: boom\n    after: 20\n    attempts: 1000\n  - op: discard\n", 1)
	upgradeV4 = strings.Replace(controlSpec, "uid: counter", "uid: counter-renamed", 1)
)

type upgradeOut struct {
	upgrade.Report
	Error string `json:"error"`
}

func runUpgradeJSON(t *testing.T, want int, args ...string) upgradeOut {
	t.Helper()
	code, out, errOut := runCkpt(t, append([]string{"upgrade", "--json"}, args...)...)
	var r upgradeOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ckpt upgrade %v: exit %d, %v\n%s%s", args, code, err, out, errOut)
	}
	if code != want {
		t.Fatalf("ckpt upgrade %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
	}
	return r
}

// counterSum is the sum of the counter's counts in a snapshot, read with
// ckpt state.
func counterSum(t *testing.T, path string) int64 {
	t.Helper()
	code, out, errOut := runCkpt(t, "state", path, "--operator", "counter", "--state", "count", "--json", "--limit", "0")
	if code != ExitOK {
		t.Fatalf("state %s: %s", path, errOut)
	}
	var sum int64
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	for dec.More() {
		var e struct {
			Value int64 `json:"value"`
		}
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		sum += e.Value
	}
	return sum
}

func localPath(uri string) string {
	if p, ok := strings.CutPrefix(uri, "file://"); ok {
		return p
	}
	return strings.TrimPrefix(uri, "file:")
}

// continues checks that job id resumed from savepoint sp and that its
// counts went on from there: a checkpoint of it counts exactly what its
// source emitted since the very first job started, and more than the
// savepoint held.
func continues(t *testing.T, url, id, sp, wantSpec string) {
	t.Helper()
	c, err := flinkrest.New(url, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Job(context.Background(), id)
	if err != nil || j.Status != cluster.JobRunning || j.Program == nil || j.Program.Spec != wantSpec {
		t.Fatalf("job %s: %+v %v", id, j, err)
	}
	st := waitCheckpoints(t, url, id, 1)
	if r := st.LatestRestored; r == nil || localPath(r.ExternalPath) != localPath(sp) {
		t.Fatalf("job %s restored from %+v, want %s", id, st.LatestRestored, sp)
	}
	chk := localPath(st.LatestCompleted.ExternalPath)
	checkEntries(t, chk, "counter", "count", expectedCounts(t, chk, 50))
	if a, b := counterSum(t, localPath(sp)), counterSum(t, chk); b <= a {
		t.Fatalf("counts did not go on: %d in the savepoint, %d in %s", a, b, chk)
	}
}

// TestUpgradeEngine: ckpt upgrade on ckpt serve, end to end. v1 runs; an
// upgrade to v4 (state dropped) is refused before anything is stopped;
// an upgrade to v3, which fails after it starts, rolls back to v1 from
// the same savepoint; an upgrade of that job to v2 works. Counts go on
// exactly across each. About 10 s.
func TestUpgradeEngine(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("CKPT_STATE_DIR", filepath.Join(tmp, "state"))
	t.Setenv("CKPT_CONFIG", filepath.Join(tmp, "none.yaml"))
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt"),
		config.RestartDelay: "100 ms", config.NumRetained: "100"})
	code, out, errOut := runCkpt(t, "submit", "-m", url, writeSpec(t, controlSpec))
	if code != ExitOK {
		t.Fatalf("submit: %s%s", out, errOut)
	}
	v1 := submittedID(t, out)
	waitCheckpoints(t, url, v1, 2)
	sps := filepath.Join(tmp, "savepoints")

	// Refused before stopping anything.
	r := runUpgradeJSON(t, ExitSubmitDropsState, "-m", url, v1, writeSpec(t, upgradeV4), "--savepoint-dir", sps)
	if r.Outcome != upgrade.Refused || r.Preflight == nil || r.Preflight.Verdict != upgrade.Refuse || r.Savepoint != "" {
		t.Fatalf("v4: %+v", r)
	}
	if ents, _ := os.ReadDir(sps); len(ents) != 0 {
		t.Fatalf("a refused upgrade took a savepoint: %v", ents)
	}
	if _, out, _ = runCkpt(t, "list", "-m", url, "-r"); listed(t, out)[v1] != "RUNNING" {
		t.Fatalf("after the refusal:\n%s", out)
	}

	// v3 fails after it starts: rolled back to v1 from the same savepoint.
	r = runUpgradeJSON(t, ExitUpgradeRolledBack, "-m", url, v1, writeSpec(t, upgradeV3), "--savepoint-dir", sps, "--timeout", "30s")
	if r.Outcome != upgrade.RolledBack || r.Savepoint == "" || r.RollbackJobID == "" || !strings.Contains(r.Reason, "injected failure") {
		t.Fatalf("v3: %+v", r)
	}
	for _, s := range []string{"identify", "preflight", "stop", "dry-run", "submit", "watch", "rollback", "rollback-watch"} {
		found := false
		for _, e := range r.Steps {
			found = found || e.Step == s
		}
		if !found {
			t.Errorf("v3: no %s step in %+v", s, r.Steps)
		}
	}
	if _, out, _ = runCkpt(t, "list", "-m", url, "-a"); listed(t, out)[r.NewJobID] != "CANCELED" || listed(t, out)[v1] != "FINISHED" {
		t.Fatalf("after the rollback:\n%s", out)
	}
	continues(t, url, r.RollbackJobID, r.Savepoint, controlSpec)
	if _, err := os.Stat(filepath.Join(localPath(r.Savepoint), "_metadata")); err != nil {
		t.Fatalf("the savepoint is gone after the rollback: %v", err)
	}

	// The rolled-back job upgrades to v2.
	back := r.RollbackJobID
	r = runUpgradeJSON(t, ExitOK, "-m", url, back, writeSpec(t, upgradeV2), "--savepoint-dir", sps)
	if r.Outcome != upgrade.Upgraded || r.NewJobID == "" || r.DryRun == nil || r.DryRun.Verdict != upgrade.Pass {
		t.Fatalf("v2: %+v", r)
	}
	continues(t, url, r.NewJobID, r.Savepoint, upgradeV2)

	// Rerunning the finished upgrade does nothing twice: the job it
	// upgraded is no longer running.
	code, out, errOut = runCkpt(t, "upgrade", "-m", url, back, writeSpec(t, upgradeV2))
	if code != ExitError || !strings.Contains(errOut, "only a RUNNING job can be upgraded") {
		t.Fatalf("rerun: exit %d\n%s%s", code, out, errOut)
	}
}
