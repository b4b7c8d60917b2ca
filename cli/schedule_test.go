package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster/schedule"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
)

// savepointDirs lists the savepoint-… directories with _metadata in dir.
func savepointDirs(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "_metadata")); err == nil && strings.HasPrefix(e.Name(), "savepoint-") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// The scheduler keeps exactly its newest N savepoints per job, disposing
// the others through the target; a savepoint taken by hand into the same
// directory and a foreign file there stay.
func TestScheduleKeepsExactlyTheRetainedSet(t *testing.T) {
	tmp := t.TempDir()
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")})
	t.Setenv("CKPT_CONFIG", filepath.Join(tmp, "none.yaml"))
	code, out, errOut := runCkpt(t, "submit", "-m", url, writeSpec(t, controlSpec))
	if code != ExitOK {
		t.Fatalf("submit: %s%s", out, errOut)
	}
	id := submittedID(t, out)
	waitCheckpoints(t, url, id, 1)
	dir := filepath.Join(tmp, "savepoints")
	os.MkdirAll(dir, 0o755)
	precious := filepath.Join(dir, "notes.txt")
	os.WriteFile(precious, []byte("mine"), 0o600)
	code, out, errOut = runCkpt(t, "savepoint", "-m", url, id, dir)
	m := regexp.MustCompile(`Path: (\S+)`).FindStringSubmatch(out)
	if code != ExitOK || m == nil {
		t.Fatalf("manual savepoint: %s%s", out, errOut)
	}
	manual := strings.TrimPrefix(m[1], "file:")
	journal := filepath.Join(tmp, "journal.jsonl")

	for round := 1; round <= 4; round++ {
		code, out, errOut = runCkpt(t, "schedule", "-m", url, "--once", "--keep", "2", "--journal", journal, id[:8], dir)
		if code != ExitOK || !strings.Contains(out, "savepoint of counts ("+id+")") {
			t.Fatalf("round %d: exit %d\n%s%s", round, code, out, errOut)
		}
		if round >= 3 && !strings.Contains(out, "disposed ") {
			t.Errorf("round %d disposed nothing:\n%s", round, out)
		}
	}
	recs, err := schedule.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	kept := recs[id]
	if len(kept) != 2 {
		t.Fatalf("journal keeps %d savepoints, want 2: %+v", len(kept), kept)
	}
	want := []string{strings.TrimPrefix(kept[0].URI, "file:"), strings.TrimPrefix(kept[1].URI, "file:"), manual}
	sort.Strings(want)
	if got := savepointDirs(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("savepoints left:\n%s\nwant the scheduler's newest two and the manual one:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "mine" {
		t.Errorf("the foreign file: %q %v", b, err)
	}
	// --all takes every running job; without --every or --once it is a usage error.
	if code, out, _ = runCkpt(t, "schedule", "-m", url, "--once", "--all", "--journal", journal, dir); code != ExitOK || !strings.Contains(out, id) {
		t.Errorf("--all: %d %s", code, out)
	}
	if code, _, _ = runCkpt(t, "schedule", "-m", url, "--all", dir); code != ExitUsage {
		t.Errorf("no --every: exit %d", code)
	}
}

// ckpt serve --savepoint-every takes savepoints of its running jobs and
// keeps the newest N it took; a foreign file beside them stays.
func TestServePeriodicSavepoints(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "sp")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600)
	journal := filepath.Join(tmp, "journal.jsonl")
	url, log := launchServe(t, serveOptions{cfg: configOf(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")}),
		spEvery: 300 * time.Millisecond, spDir: dir, spPolicy: savepoints.Policy{KeepNewest: 2}, spJournal: journal})
	code, out, errOut := runCkpt(t, "submit", "-m", url, writeSpec(t, controlSpec))
	if code != ExitOK {
		t.Fatalf("submit: %s%s", out, errOut)
	}
	id := submittedID(t, out)
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs, _ := schedule.ReadJournal(journal)
		if strings.Count(log.String(), "disposed ") >= 2 && len(recs[id]) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rounds with retention within a minute:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Stop the server (and its scheduler) before looking: a round in flight
	// would change the directory under the test.
	code, _, _ = runCkpt(t, "cancel", "-m", url, id)
	recs, _ := schedule.ReadJournal(journal)
	got := savepointDirs(t, dir)
	if len(got) < 2 {
		t.Fatalf("savepoints: %v", got)
	}
	for _, r := range recs[id] {
		if _, err := os.Stat(filepath.Join(strings.TrimPrefix(r.URI, "file:"), "_metadata")); err != nil {
			t.Errorf("a retained savepoint is gone: %s", r.URI)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "mine" {
		t.Errorf("foreign file: %q %v", b, err)
	}
	_ = code
}
