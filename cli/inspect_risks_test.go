package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/inspector"
)

// The dry run's upgrade risks over a real Flink 1.20 savepoint (state
// inline in _metadata): Java-serialized operator state in "first" and
// "second", and a ckpt job spec whose count operator takes the uid of
// Flink's window operator — String keys and a VALUE "count" where Flink
// wrote Tuple1<Integer> keys and a REDUCING "count": Flink refuses.
func TestInspectAgainstUpgradeRisks(t *testing.T) {
	dir := t.TempDir()
	sp := flinkFixture(t, "operatorstate_complexKeyed-flink1.20", dir, "savepoint-c0ffee-0123456789ab")
	spec := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	countOnWindow := spec("count-on-window.yaml", `name: w
parallelism: 4
maxParallelism: 128
pipeline:
  - op: generator
    uid: first
  - op: map
    uid: second
    fn: upper
  - op: keyBy
  - op: count
    uid: window
`)
	cases := []struct {
		golden string
		args   []string
		code   int
	}{
		{"against-risks-uids.golden", []string{"inspect", "--no-check", "--against", "first,second,window", sp}, 0},
		{"against-risks-spec.golden", []string{"inspect", "--no-check", "--against", countOnWindow, sp}, inspector.ExitResumeFails},
		{"against-risks-spec-json.golden", []string{"inspect", "--json", "--no-check", "--against", countOnWindow, sp}, inspector.ExitResumeFails},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errb := runCkpt(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out, errb)
			}
			golden(t, tc.golden, strings.ReplaceAll(out, dir, "DIR"))
		})
	}
}
