package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// TestSavepointTargetVersion: ckpt savepoint --target-version V4 against
// ckpt serve leaves a V4 savepoint (the engine writes V6) whose state files
// are those the engine wrote; a Flink target is refused before anything is
// triggered, and so is a bad version.
func TestSavepointTargetVersion(t *testing.T) {
	tmp := t.TempDir()
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")})
	code, out, errOut := runCkpt(t, "submit", "-m", url, writeSpec(t, controlSpec))
	if code != ExitOK {
		t.Fatalf("submit: %d %s%s", code, out, errOut)
	}
	id := submittedID(t, out)
	waitCheckpoints(t, url, id, 1)
	spRe := regexp.MustCompile(`Savepoint completed\. Path: (\S+)`)
	versions := map[string]int{}
	var v4 string
	for _, v := range []string{"", "V4"} {
		args := []string{"savepoint", "-m", url, id, filepath.Join(tmp, "sp"+v)}
		if v != "" {
			args = append(args, "--target-version", v)
		}
		code, out, errOut := runCkpt(t, args...)
		sp := spRe.FindStringSubmatch(out)
		if code != ExitOK || sp == nil {
			t.Fatalf("savepoint %s: %d\n%s%s", v, code, out, errOut)
		}
		m, err := snapshot.Read(context.Background(), storage.NewLocal(), sp[1])
		if err != nil {
			t.Fatal(err)
		}
		versions[v] = m.Version
		if v != "" {
			v4 = sp[1]
		}
		if v != "" && !strings.Contains(out, "Savepoint _metadata converted: v6 → v4") {
			t.Errorf("savepoint --target-version %s does not say so:\n%s", v, out)
		}
		if p, ok, err := m.Properties(); err != nil || !ok || p.Kind != snapshot.KindSavepoint {
			t.Errorf("savepoint %s: properties %+v %v %v", v, p, ok, err)
		}
		for _, op := range m.Operators {
			if v != "" && (op.UID != "" || op.Name != "") {
				t.Errorf("V4 savepoint operator %s has uid %q name %q", op.ID, op.UID, op.Name)
			}
		}
	}
	if versions[""] != snapshot.Version6 || versions["V4"] != snapshot.Version4 {
		t.Fatalf("versions %v, want the engine's V6 and V4 when asked", versions)
	}
	// The engine resumes from the V4 savepoint (state found by operator ID).
	if code, out, errOut := runCkpt(t, "submit", "-m", url, "-s", v4, writeSpec(t, controlSpec)); code != ExitOK || !strings.Contains(out, "RUNNING") {
		t.Fatalf("submit -s V4 savepoint: %d\n%s%s", code, out, errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"savepoint", "-m", flinkConfigAt(t, "2.3.0"), id, tmp, "--target-version", "V4"}, "runs Flink 2.3.0, which writes its own"},
		{[]string{"savepoint", "-m", url, id, tmp, "--target-version", "V7"}, "want V4"},
		{[]string{"savepoint", "-m", url, id, tmp, "--target-version", "V4", "--detached"}, "cannot be --detached"},
	} {
		code, out, errOut := runCkpt(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(out, "Triggering") {
			t.Errorf("%v: exit %d\n%s%s\nwant usage error with %q before triggering", tc.args, code, out, errOut, tc.want)
		}
	}
}
