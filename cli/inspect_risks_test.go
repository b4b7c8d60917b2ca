package cli

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/operator"
	enginestate "github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
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

// The states the dry run declares for each keyed built-in are the ones
// the built-in registers when it opens (names checked on a real keyed
// backend), so a renamed state cannot leave the check behind.
func TestBuiltinStatesDeclared(t *testing.T) {
	ops := map[string]operator.Operator{
		"count": &builtin.Count{}, "sum": &builtin.Sum{}, "dedupe": &builtin.Dedupe{},
		"window-count": &builtin.WindowCount{Size: time.Second},
	}
	if len(ops) != len(builtinStates) {
		t.Fatalf("declared %d built-ins, test knows %d", len(builtinStates), len(ops))
	}
	for name, op := range ops {
		b, err := enginestate.Open(t.TempDir(), enginestate.Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}})
		if err != nil {
			t.Fatal(err)
		}
		if err := op.Open(&operator.Context{Ctx: context.Background(), Keyed: b, MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var declared []string
		for _, d := range builtinStates[name] {
			declared = append(declared, d.Name)
		}
		got := b.StateNames()
		sort.Strings(got)
		sort.Strings(declared)
		if strings.Join(got, ",") != strings.Join(declared, ",") {
			t.Errorf("%s registers %v, the dry run declares %v", name, got, declared)
		}
		b.Close()
	}
}
