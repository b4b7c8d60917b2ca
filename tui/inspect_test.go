package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Uids of the jobs that wrote the 1.17–1.20 migration fixtures (SOURCES.md).
const migrationUIDs = "CheckpointingSource1,CheckpointingKeyedStateFlatMap1,CheckpointingTimelyStatefulOperator1,brand-new-operator"

func TestInspectGolden(t *testing.T) {
	job := "/demo/checkpoints/" + DemoJobID
	typeUIDs := append([]string{"u"}, strings.Split(migrationUIDs, "")...)
	tests := []struct {
		name string
		args []string
		keys []string
	}{
		{name: "inspect-checkpoint", args: []string{job + "/chk-18"}},
		{name: "inspect-savepoint", args: []string{"/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19/_metadata"}},
		{name: "inspect-uid-prompt", args: []string{"/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19"}, keys: typeUIDs},
		{name: "inspect-uids-mapped", args: []string{"/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19"}, keys: append(append([]string{}, typeUIDs...), "enter")},
		{name: "inspect-dry-run", args: []string{"/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19"}, keys: append(append([]string{}, typeUIDs...), "enter", "r")},
		{name: "inspect-operator", args: []string{job + "/chk-18"}, keys: []string{"j", "enter"}},
		{name: "inspect-subtask", args: []string{job + "/chk-18"}, keys: []string{"j", "enter", "enter"}},
		{name: "inspect-no-metadata", args: []string{job + "/chk-19"}},
		{name: "inspect-details-pane", args: []string{job + "/chk-18"}, keys: []string{"j", "tab"}},
		{name: "diff", args: []string{job + "/chk-17", job + "/chk-18"}},
	}
	for _, tc := range tests {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.w, sz.h)
			t.Run(name, func(t *testing.T) {
				screen := "inspect"
				if tc.name == "diff" {
					screen = "diff"
				}
				a := newTestApp(t, testOpts{w: sz.w, h: sz.h, fs: demoFS(t)}, screen, tc.args...)
				press(t, a, tc.keys...)
				golden(t, a, name)
			})
		}
	}
}

func decodeFixture(t *testing.T, name string) *snapshot.Metadata {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir(t), "apache-flink", name, "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The dry-run follows Flink's rule: matched state is restored; unmatched
// state fails the resume unless allow-non-restored-state drops it; unmatched
// operators without state are skipped; new operators start empty.
func TestResumeDryRun(t *testing.T) {
	m := decodeFixture(t, "new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint")
	tests := []struct {
		uids                        string
		restored, dropped, newEmpty int
		needsN                      bool
	}{
		{uids: migrationUIDs, restored: 3, newEmpty: 1, needsN: true},
		{uids: "brand-new-operator", restored: 0, newEmpty: 1, needsN: true},
	}
	for _, tc := range tests {
		d := ResumeDryRun(m.Operators, ParseUIDs(tc.uids))
		if len(d.Restored) != tc.restored || len(d.New) != tc.newEmpty || d.NeedsAllowNonRestored() != tc.needsN {
			t.Errorf("uids %s: restored %d new %d needs -n %v; want %d %d %v", tc.uids, len(d.Restored), len(d.New), d.NeedsAllowNonRestored(), tc.restored, tc.newEmpty, tc.needsN)
		}
		if len(d.Restored)+len(d.Dropped)+len(d.Skipped) != len(m.Operators) {
			t.Errorf("uids %s: verdicts do not cover every operator", tc.uids)
		}
		for _, op := range d.Dropped {
			if !hasState(op) {
				t.Errorf("operator %s without state counted as dropped", op.ID)
			}
		}
	}
	// Every operator with state claimed: no -n needed.
	var all []string
	for _, op := range m.Operators {
		if hasState(op) {
			for _, u := range []string{"CheckpointingSource1", "CheckpointingSource2", "CheckpointingKeyedStateFlatMap1", "CheckpointingKeyedStateFlatMap2", "CheckpointingTimelyStatefulOperator1", "CheckpointingTimelyStatefulOperator2"} {
				if snapshot.OperatorIDFromUID(u) == op.ID {
					all = append(all, u)
				}
			}
		}
	}
	if d := ResumeDryRun(m.Operators, all); d.NeedsAllowNonRestored() {
		t.Errorf("all stateful operators mapped (%v) but dropped %d", all, len(d.Dropped))
	}
}

func TestInspectLoadsUIDFile(t *testing.T) {
	fsys := demoFS(t)
	dir := fsys.(prefixFS).root
	if err := os.WriteFile(filepath.Join(dir, "uids.txt"), []byte("# job uids\nCheckpointingSource1\n\nCheckpointingKeyedStateFlatMap1 # keyed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, testOpts{w: 160, h: 48, fs: fsys}, "inspect", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19")
	press(t, a, "u")
	typeText(t, a, "@/demo/uids.txt")
	press(t, a, "enter")
	s := a.Top().(*Inspect)
	if got := strings.Join(s.uids, ","); got != "CheckpointingSource1,CheckpointingKeyedStateFlatMap1" {
		t.Fatalf("uids from file: %q", got)
	}
	f := frameText(a)
	if !strings.Contains(f, "69f32d314b97c6f7f9ed7873983167f2 CheckpointingSource1") {
		t.Errorf("operator 69f32d… not named CheckpointingSource1:\n%s", f)
	}
	press(t, a, "u")
	typeText(t, a, "@/demo/none.txt")
	press(t, a, "enter")
	if err := a.ctx.Tasks.LastErr; err == nil || !strings.Contains(err.Error(), "none.txt") {
		t.Errorf("missing uid file: error %v", err)
	}
}

func TestInspectCorruptMetadataNamesOffset(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(fixturesDir(t), "apache-flink", "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", "_metadata")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "_metadata")
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, testOpts{w: 120, h: 30, fs: storage.NewLocal()}, "inspect", p)
	f := frameText(a)
	if !strings.Contains(f, "byte offset") || !strings.Contains(f, "truncated") {
		t.Errorf("truncated _metadata: frame does not name offset and cause:\n%s", f)
	}
	if !strings.Contains(f, "format v4") {
		t.Errorf("header decoded before the failure should still show:\n%s", f)
	}
}

func TestInspectSubtaskChecksFiles(t *testing.T) {
	a := newTestApp(t, testOpts{w: 160, h: 48, fs: demoFS(t)}, "inspect", "/demo/checkpoints/"+DemoJobID+"/chk-18")
	// Find an operator with keyed incremental state and open its subtask 0.
	s := a.Top().(*Inspect)
	idx := -1
	for i, r := range s.rows {
		if strings.Contains(r.kinds, "keyed") {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("no keyed operator in the 1.20 RocksDB checkpoint")
	}
	s.list.Select(idx)
	press(t, a, "enter", "enter")
	st, ok := a.Top().(*SubtaskScreen)
	if !ok {
		t.Fatalf("top is %T", a.Top())
	}
	var files, missing int
	for _, r := range st.rows {
		if r.path != "" {
			files++
			if !strings.HasPrefix(r.path, "/demo/checkpoints/"+DemoJobID+"/chk-18/") {
				t.Errorf("relative handle not resolved against chk-18: %s", r.path)
			}
			if r.exists == no {
				missing++
			}
		}
	}
	// The fixture ships only _metadata, not the state files it references.
	if files == 0 || missing != files {
		t.Errorf("files %d, missing %d: every referenced file should be checked and found missing", files, missing)
	}
}
