package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/config"
)

// cancel -s (Flink's cancel with a savepoint) against ckpt serve: a
// savepoint that fails leaves the job RUNNING; one that completes leaves a
// savepoint and a CANCELED job; flag forms as Flink's.
func TestCancelWithSavepointAgainstServe(t *testing.T) {
	tmp := t.TempDir()
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")})
	ck := func(t *testing.T, code int, args ...string) (string, string) {
		t.Helper()
		got, out, errOut := runCkpt(t, append(args[:1:1], append([]string{"-m", url}, args[1:]...)...)...)
		if got != code {
			t.Fatalf("ckpt %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
		}
		return out, errOut
	}
	submit := func() string {
		out, _ := ck(t, ExitOK, "submit", writeSpec(t, controlSpec))
		id := submittedID(t, out)
		waitCheckpoints(t, url, id, 1)
		return id
	}
	id := submit()

	// No directory given and none configured: Flink's error, job untouched.
	_, errOut := ck(t, ExitError, "cancel", "-s", id)
	if !strings.Contains(errOut, "target-directory") {
		t.Errorf("cancel -s without a directory: %s", errOut)
	}
	// A savepoint that cannot be written: the job keeps running.
	blocker := filepath.Join(tmp, "a-file")
	os.WriteFile(blocker, []byte("x"), 0o644)
	_, errOut = ck(t, ExitError, "cancel", "-s", filepath.Join(blocker, "sp"), id)
	if !strings.Contains(errOut, "the job was not cancelled") {
		t.Errorf("failed cancel -s: %s", errOut)
	}
	out, _ := ck(t, ExitOK, "list")
	if st := listed(t, out)[id]; st != "RUNNING" {
		t.Fatalf("after a failed cancel -s the job is %q, want RUNNING:\n%s", st, out)
	}

	spRe := regexp.MustCompile(`Cancelled job ` + id + `\. Savepoint stored in (\S+)\.`)
	out, errOut = ck(t, ExitOK, "cancel", "-s", filepath.Join(tmp, "sp"), id)
	m := spRe.FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(m[1], filepath.Join(tmp, "sp")+"/savepoint-"+id[:6]+"-") ||
		!strings.Contains(errOut, "DEPRECATION WARNING") {
		t.Fatalf("cancel -s:\n%s\n%s", out, errOut)
	}
	if _, err := os.Stat(filepath.Join(m[1], "_metadata")); err != nil {
		t.Errorf("savepoint of cancel -s: %v", err)
	}
	out, _ = ck(t, ExitOK, "list", "-a")
	if st := listed(t, out)[id]; st != "CANCELED" {
		t.Errorf("after cancel -s the job is %q, want CANCELED", st)
	}

	// --withSavepoint=DIR --type native, Flink's long form.
	id2 := submit()
	out, _ = ck(t, ExitOK, "cancel", "--withSavepoint="+filepath.Join(tmp, "sp2"), "--type", "native", id2)
	if !strings.Contains(out, "Cancelling job "+id2+" with NATIVE savepoint to "+filepath.Join(tmp, "sp2")) ||
		!strings.Contains(out, "Savepoint stored in "+filepath.Join(tmp, "sp2")+"/savepoint-") {
		t.Errorf("cancel --withSavepoint=DIR:\n%s", out)
	}
	// A stray second argument without -s is a usage error.
	ck(t, ExitUsage, "cancel", "/tmp/x", id2)
}
