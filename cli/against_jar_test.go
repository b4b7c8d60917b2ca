package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/config"
)

// The jar flags of inspect go with --against JAR only; a jar's dry run is
// refused, in words, where it cannot run: in the TUI, and against ckpt
// serve (which runs job specs); submit --dry-run needs a resume.
func TestAgainstJarUsage(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("CKPT_CONFIG", filepath.Join(tmp, "none.yaml"))
	sp := flinkFixture(t, "operatorstate_complexKeyed-flink1.20", tmp, "savepoint-c0ffee-0123456789ab")
	jar := filepath.Join(tmp, "job.jar")
	if err := os.WriteFile(jar, []byte("PK\x03\x04"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")})
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"inspect", "--class", "a.B", sp}, ExitUsage, "--class, --arg and -p apply to --against JAR"},
		{[]string{"inspect", "--against", "a,b", "-p", "2", sp}, ExitUsage, "apply to --against JAR"},
		{[]string{"inspect", "-i", "--against", jar, sp}, ExitUsage, "not in the TUI"},
		{[]string{"inspect", "--no-check", "-m", url, "--against", jar, sp}, ExitError, "runs job specs, not jars"},
		{[]string{"submit", "--dry-run", "-m", url, jar}, ExitUsage, "--dry-run runs the resume dry run: give -s PATH"},
		{[]string{"submit", "--dry-run", "--no-dry-run", "-s", sp, "-m", url, jar}, ExitUsage, "--dry-run runs the resume dry run"},
	} {
		code, out, errOut := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, tc.err, out, errOut)
		}
	}
}
