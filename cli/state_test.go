package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

func TestStateCommand(t *testing.T) {
	sp := filepath.Join("..", "..", "shared", "fixtures", "flink-metadata", "apache-flink", "new-stateful-udf-migration-itcase-flink1.10-savepoint")
	if _, err := os.Stat(sp); err != nil {
		t.Skipf("shared fixtures: %v", err)
	}
	code, out, errOut := runCkpt(t, "state", sp)
	if code != ExitOK || !strings.Contains(out, "keyed state (key groups (full checkpoint: heap or unified)), key Tuple1<Long>") ||
		!strings.Contains(out, "state-name  VALUE  VoidNamespace  Long") {
		t.Fatalf("schema: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCkpt(t, "state", sp, "--operator", "d5c8b168c6cbfe8c507a10f88b325243", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != ExitOK || len(lines) != 4 {
		t.Fatalf("entries: exit %d\n%s\n%s", code, out, errOut)
	}
	var e struct {
		State string `json:"state"`
		Value int64  `json:"value"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.State != "state-name" {
		t.Fatalf("%s: %v", lines[0], err)
	}
	code, out, errOut = runCkpt(t, "state", sp, "--operator", "d5c8b168c6cbfe8c507a10f88b325243", "--key", "2")
	if code != ExitOK || !strings.Contains(out, "state-name  3          (2)  null       2") || strings.Count(out, "\n") != 2 {
		t.Fatalf("--key 2: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut = runCkpt(t, "state", sp, "--operator", "d5c8b168c6cbfe8c507a10f88b325243", "--key", "x"); code == ExitOK || !strings.Contains(errOut, `key "x" is not a Long`) {
		t.Fatalf("--key x: %d %s", code, errOut)
	}
	code, out, errOut = runCkpt(t, "state", sp, "--operator", "1f2b5df5a66154aca61fcb26193792be")
	if code != ExitOK || !strings.Contains(out, `source-state    0        UNION  "Here be dragons!"`) {
		t.Fatalf("operator state: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut = runCkpt(t, "state", sp, "--operator", "nope"); code == ExitOK || !strings.Contains(errOut, `no operator with uid or ID "nope"`) {
		t.Fatalf("unknown operator: %d %s", code, errOut)
	}
}

// --csv and --histogram over a real Flink 1.20 savepoint whose state is
// inline in _metadata (the window operator and a Java-serialized list).
func TestStateCSVAndHistogram(t *testing.T) {
	dir := t.TempDir()
	sp := flinkFixture(t, "operatorstate_complexKeyed-flink1.20", dir, "savepoint-c0ffee-0123456789ab")
	const window, first = "01203aa9a12dc1ec725e03853dd7c8f2", "adf090656b210b1609ad3203d4ee7329"
	cases := []struct {
		golden string
		args   []string
	}{
		{"state-csv.golden", []string{"state", sp, "--operator", window, "--csv", "--limit", "0"}},
		{"state-csv-operator.golden", []string{"state", sp, "--operator", first, "--csv"}},
		{"state-histogram.golden", []string{"state", sp, "--operator", window, "--histogram"}},
		{"state-histogram-state.golden", []string{"state", sp, "--operator", window, "--state", "values", "--histogram"}},
		{"state-histogram-json.golden", []string{"state", sp, "--operator", window, "--histogram", "--json"}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errb := runCkpt(t, tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s%s", code, out, errb)
			}
			golden(t, tc.golden, out)
		})
	}
	// Every CSV row has the header's fields, and the entries are the
	// ones the default table shows.
	_, out, _ := runCkpt(t, "state", sp, "--operator", window, "--csv", "--limit", "0")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 11 || rows[0][0] != "state" {
		t.Fatalf("csv: %d rows, %v\n%s", len(rows), err, out)
	}
	for _, bad := range [][]string{
		{"state", sp, "--csv"},
		{"state", sp, "--histogram"},
		{"state", sp, "--operator", window, "--csv", "--json"},
	} {
		if code, _, errb := runCkpt(t, bad...); code != 2 {
			t.Errorf("%v: exit %d %s, want usage error", bad, code, errb)
		}
	}
}

// The entries ckpt state prints from its streaming scan are ReadKeyed's
// (the API whose values a caller keeps), as encoding/json and Compact
// render them: --json line for line, the table row for row. The window
// operator's state holds Records, windows and timers.
func TestStateEntriesAreReadKeyedOnes(t *testing.T) {
	dir := t.TempDir()
	sp := flinkFixture(t, "operatorstate_complexKeyed-flink1.20", dir, "savepoint-c0ffee-0123456789ab")
	const window = "01203aa9a12dc1ec725e03853dd7c8f2"
	ctx, fsys := context.Background(), storage.NewLocal()
	m, err := snapshot.Read(ctx, fsys, sp)
	if err != nil {
		t.Fatal(err)
	}
	op, err := findOperator(m, window)
	if err != nil {
		t.Fatal(err)
	}
	var wantJSON bytes.Buffer
	wantTable := []string{"STATE KEY GROUP KEY NAMESPACE VALUE"}
	enc := json.NewEncoder(&wantJSON)
	err = state.ReadKeyed(ctx, fsys, m, op, "", func(e state.Entry) error {
		key := state.Compact(e.Key)
		if e.UserKey != nil {
			key += " / " + state.Compact(e.UserKey)
		}
		wantTable = append(wantTable, strings.Join(strings.Fields(fmt.Sprintf("%s %d %s %s %s", e.State, e.KeyGroup, key, state.Compact(e.Namespace), state.Compact(e.Value))), " "))
		return enc.Encode(e)
	})
	if err != nil || len(wantTable) < 3 {
		t.Fatalf("ReadKeyed: %d entries, %v", len(wantTable)-1, err)
	}
	code, out, errb := runCkpt(t, "state", sp, "--operator", window, "--json", "--limit", "0")
	if code != ExitOK || out != wantJSON.String() {
		t.Fatalf("--json: exit %d %s\n got %s\nwant %s", code, errb, out, wantJSON.String())
	}
	code, out, errb = runCkpt(t, "state", sp, "--operator", window, "--limit", "0")
	var got []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	if code != ExitOK || !slices.Equal(got, wantTable) {
		t.Fatalf("table: exit %d %s\n got %q\nwant %q", code, errb, got, wantTable)
	}
}
