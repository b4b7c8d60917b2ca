package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/config"
)

// ckpt submit's own dry run lists the upgrade risks of inspect --against
// and refuses, with inspect --against's exit code, the serializer changes
// Flink would refuse — against ckpt serve, resuming from a real Flink 1.20
// savepoint (state inline in _metadata) whose "first" and "second" hold
// Java-serialized operator state and whose "window" operator Flink keyed
// by Tuple1<Integer> with a REDUCING "count".
func TestSubmitDryRunUpgradeRisks(t *testing.T) {
	tmp := t.TempDir()
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")})
	sp := flinkFixture(t, "operatorstate_complexKeyed-flink1.20", tmp, "savepoint-c0ffee-0123456789ab")
	const head = "name: w\nparallelism: 4\nmaxParallelism: 128\npipeline:\n  - op: generator\n    uid: first\n  - op: map\n    uid: second\n    fn: upper\n"
	// A ckpt count (String key, VALUE "count") on Flink's window operator.
	countOnWindow := writeSpec(t, head+"  - op: keyBy\n  - op: count\n    uid: window\n")
	// Without the window operator: its state is dropped (exit 3 without -n).
	noWindow := writeSpec(t, head+"  - op: discard\n    uid: sink\n")
	javaRisk := `JAVA  adf090656b210b1609ad3203d4ee7329  first  state "_default_" (operator SPLIT_DISTRIBUTE) Java serialization — a changed class (or serialVersionUID) makes the state unreadable`
	cases := []struct {
		name string
		args []string
		code int
		out  []string // in stdout
		err  string   // in stderr
	}{
		{"refused serializers, without -n", []string{"-s", sp, countOnWindow}, ExitSubmitRestoreFails,
			[]string{"FAILS (2)", "its key: the new job's key is String: Flink refuses the restore (StateMigrationException",
				`state "count": the new job registers it as VALUE`, "upgrade risks (2, snapshot written by Flink 1.16+)", javaRisk},
			"not submitted: resuming " + sp + " into " + countOnWindow + ": Flink refuses this resume even with -n: its key: the new job's key is String"},
		{"refused serializers, with -n", []string{"-s", sp, "-n", countOnWindow}, ExitSubmitRestoreFails,
			[]string{"FAILS (2)", javaRisk}, "Flink refuses this resume even with -n"},
		{"risks listed, state dropped", []string{"-s", sp, noWindow}, ExitSubmitDropsState,
			[]string{"DROPPED (1", "upgrade risks (2, snapshot written by Flink 1.16+)", javaRisk}, "pass -n/--allowNonRestoredState"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCkpt(t, append([]string{"submit", "-m", url, "--wait", "0"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(errOut, tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, errOut)
			}
			if strings.Contains(out, "Job has been submitted") {
				t.Errorf("submitted a refused resume:\n%s", out)
			}
			// The same verdict and exit code as inspect --against.
			if ic, iout, _ := runCkpt(t, "inspect", "--no-check", "--against", tc.args[len(tc.args)-1], sp); ic != tc.code ||
				!strings.Contains(iout, javaRisk) {
				t.Errorf("inspect --against: exit %d (want %d)\n%s", ic, tc.code, iout)
			}
		})
	}
}
