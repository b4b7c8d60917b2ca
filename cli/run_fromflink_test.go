package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// fromFlinkRunnerSavepoint copies engine/bridge's real Flink 2.3 savepoint of the
// exactly-once example (parallelism 3, 100 keys, 40000 records) into a
// savepoint directory of its own, and makes the files its sink's pending
// state names exist in out (Flink committed them when it stopped).
func fromFlinkRunnerSavepoint(t *testing.T, out string) string {
	t.Helper()
	sp := filepath.Join(t.TempDir(), "sp", "savepoint-d8e28d-e2370e5b5509")
	if err := os.CopyFS(sp, os.DirFS(filepath.Join("..", "engine", "bridge", "testdata", "exactly-once-counts"))); err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.Read(context.Background(), storage.NewLocal(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	err = fstate.ReadOperators(context.Background(), storage.NewLocal(), m, m.Operator(snapshot.OperatorIDFromUID("sink")), func(e fstate.OperatorElement) error {
		var p struct{ Final string }
		if err := json.Unmarshal(e.Value.([]byte), &p); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, p.Final), nil, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// fixtureSpec is the spec of fromFlinkRunnerSavepoint's job (parallelism
// 2 here), with sink step op and uid writing to out.
func fixtureSpec(t *testing.T, op, uid, out string) string {
	t.Helper()
	return writeSpec(t, fmt.Sprintf(`name: exactly-once-counts
parallelism: 2
pipeline:
  - op: generator
    uid: source
    keys: 100
    limit: 40000
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: %s
    uid: %s
    path: %s
`, op, uid, out))
}

// ckpt run -s FLINK_SAVEPOINT SPEC says it converts, writes the ckpt
// savepoint beside the Flink one (left as it was) and resumes from it at
// the spec's parallelism; a spec that does not match is refused by the
// restore rules before anything is written, and -n skips what has no
// operator, naming it.
func TestRunFromFlinkSavepoint(t *testing.T) {
	t.Run("converts and resumes", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		sp := fromFlinkRunnerSavepoint(t, out)
		before, _ := os.ReadFile(filepath.Join(sp, "_metadata"))
		code, stdout, errOut := runCkpt(t, "run", "--stats", "0", "-s", sp, fixtureSpec(t, "file-sink", "sink", out))
		if code != ExitOK || !strings.Contains(errOut, "FINISHED") {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, errOut)
		}
		if !strings.Contains(errOut, sp+" is a Flink snapshot: converting it into a ckpt savepoint in "+filepath.Dir(sp)+"/savepoint-d8e28d-") {
			t.Errorf("no conversion line:\n%s", errOut)
		}
		if !strings.Contains(errOut, "restored from "+filepath.Dir(sp)+"/savepoint-d8e28d-") || !strings.Contains(errOut, "(checkpoint 4,") {
			t.Errorf("not restored from the converted savepoint:\n%s", errOut)
		}
		ents, _ := os.ReadDir(filepath.Dir(sp))
		if len(ents) != 2 {
			t.Errorf("%d entries beside the Flink savepoint, want it and the converted one", len(ents))
		}
		if after, _ := os.ReadFile(filepath.Join(sp, "_metadata")); string(after) != string(before) {
			t.Errorf("the Flink savepoint's _metadata changed")
		}
		lines := slices.DeleteFunc(committedLines(t, out), func(l string) bool { return l == "" }) // the stand-ins of Flink's files
		if !slices.Contains(lines, "key-0,400") || !slices.Contains(lines, "key-99,400") || len(slices.Compact(slices.Clone(lines))) != len(lines) {
			t.Errorf("committed %d lines: not every key to its last count (400) once", len(lines))
		}
	})

	t.Run("a spec that does not match is refused", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		sp := fromFlinkRunnerSavepoint(t, out)
		specPath := fixtureSpec(t, "file-sink", "another-sink", out)
		code, stdout, errOut := runCkpt(t, "run", "--stats", "0", "-s", sp, specPath)
		if code != ExitError || !strings.Contains(errOut, `no operator for 1 operator(s) with state: 2e588ce1c86a9d46e2e85186773ce4fd (uid "sink")`) ||
			!strings.Contains(errOut, "--allowNonRestoredState") {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, errOut)
		}
		if ents, _ := os.ReadDir(filepath.Dir(sp)); len(ents) != 1 {
			t.Errorf("a refused restore wrote beside the Flink savepoint: %d entries", len(ents))
		}
		code, stdout, errOut = runCkpt(t, "run", "--stats", "0", "-n", "-s", sp, specPath)
		if code != ExitOK || !strings.Contains(errOut, `skipped state of operator 2e588ce1c86a9d46e2e85186773ce4fd (uid "sink")`) {
			t.Fatalf("with -n: exit %d\n%s\n%s", code, stdout, errOut)
		}
	})
}
