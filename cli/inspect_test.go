package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// flinkFixture copies a real Flink `_metadata` (read in place from
// ../shared) into dir/name, so output paths are stable.
func flinkFixture(t *testing.T, fixture, dir, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink", fixture, "_metadata")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	d := filepath.Join(dir, name)
	os.MkdirAll(d, 0o755)
	if err := os.WriteFile(filepath.Join(d, "_metadata"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

const migrationUIDList = "CheckpointingSource1,CheckpointingSource2,CheckpointingKeyedStateFlatMap1,CheckpointingKeyedStateFlatMap2,CheckpointingTimelyStatefulOperator1,CheckpointingTimelyStatefulOperator2"

func TestInspectGolden(t *testing.T) {
	root := t.TempDir()
	chk := flinkFixture(t, "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", filepath.Join(root, "a1b2c3d4e5f60718293a4b5c6d7e8f90"), "chk-2")
	// Half of the referenced files exist.
	m, _ := snapshot.Read(context.Background(), storage.NewLocal(), chk)
	for i, f := range inspector.CollectFiles(m) {
		if i%2 == 0 {
			os.WriteFile(f.URI, make([]byte, f.Size), 0o644)
		}
	}
	sp := flinkFixture(t, "new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint", root, "savepoint-a1b2c3-0123456789ab")
	// Half the checkpoint's files are missing: it decodes but cannot be
	// restored (exit 5, the verdict first); the savepoint is not checked.
	cases := []struct {
		golden string
		args   []string
		code   int
	}{
		{"inspect-checkpoint.golden", []string{"inspect", "--uids", migrationUIDList, chk}, inspector.ExitMissingFiles},
		{"inspect-subtasks-files.golden", []string{"inspect", "--subtasks", "--files", "--bytes", "--uids", migrationUIDList, filepath.Join(chk, "_metadata")}, inspector.ExitMissingFiles},
		{"inspect-savepoint.golden", []string{"inspect", "--no-check", sp}, 0},
		{"inspect-json.golden", []string{"inspect", "--json", "--files", "--uids", migrationUIDList, chk}, inspector.ExitMissingFiles},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errb := runCkpt(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errb)
			}
			if tc.code == inspector.ExitMissingFiles && !strings.Contains(errb, "cannot be restored: 41 of 82 referenced files are missing") {
				t.Errorf("stderr does not give the verdict: %s", errb)
			}
			golden(t, tc.golden, strings.ReplaceAll(out, root, "ROOT"))
		})
	}
	// The JSON decodes into the documented schema.
	_, out, _ := runCkpt(t, "inspect", "--json", "--uids", migrationUIDList, chk)
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"path", "metadata", "dir", "metadata_bytes", "format_version", "written_by", "checkpoint_id",
		"kind", "master_states", "operators", "totals", "warnings"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "chk-1")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "_metadata"), []byte{0x49, 0x60, 0x67, 0x2D, 0, 0, 0, 4, 0, 0}, 0o644)
	inProgress := filepath.Join(dir, "chk-2")
	os.MkdirAll(inProgress, 0o755)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"inspect", bad}, 1, "byte offset 8: expected the checkpoint id"},
		{[]string{"inspect", inProgress}, 1, "no _metadata"},
		{[]string{"inspect", filepath.Join(dir, "nope")}, 1, "no such file"},
		{[]string{"inspect"}, 2, "accepts 1 arg"},
		{[]string{"inspect", "--uids", "a,hash:xyz", bad}, 2, "hash:xyz"},
		{[]string{"inspect", "--uids-file", filepath.Join(dir, "missing.txt"), bad}, 1, "uids file"},
	}
	for _, tc := range cases {
		code, _, errb := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errb, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errb, tc.code, tc.want)
		}
	}
}

// A Flink 2.x-style savepoint (uids stored) for --against: source with
// operator state, keyed count, stateless map.
func writeSavepoint(t *testing.T, dir string, countMaxP int32) string {
	t.Helper()
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 7}
	m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone))
	inline := func(n int) snapshot.StreamHandle { return &snapshot.ByteStreamHandle{Name: "x", Data: make([]byte, n)} }
	src := snapshot.NewOperatorState("source", "generator", 2, 128)
	cnt := snapshot.NewOperatorState("count-per-key", "count", 2, countMaxP)
	mp := snapshot.NewOperatorState("upper", "map", 2, 128)
	for i := int32(0); i < 2; i++ {
		src.Subtasks = append(src.Subtasks, &snapshot.SubtaskState{Index: i,
			ManagedOperatorState: snapshot.NewOperatorStreamHandle(inline(16), snapshot.NamedOperatorState{Name: "offsets", Offsets: []int64{0}})})
		r := snapshot.KeyGroupRangeFor(countMaxP, 2, i)
		cnt.Subtasks = append(cnt.Subtasks, &snapshot.SubtaskState{Index: i,
			ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(r, make([]int64, r.Count), inline(1000))})
		mp.Subtasks = append(mp.Subtasks, &snapshot.SubtaskState{Index: i})
	}
	m.Operators = []*snapshot.OperatorState{src, cnt, mp}
	sp := filepath.Join(dir, "savepoint-a1b2c3-00000000000a")
	os.MkdirAll(sp, 0o755)
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(sp, "_metadata"), m); err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestInspectAgainst(t *testing.T) {
	dir := t.TempDir()
	sp := writeSavepoint(t, dir, 128)
	spec := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	same := spec("same.yaml", `name: counts
parallelism: 2
pipeline:
  - op: generator
    uid: source
  - op: map
    uid: upper
    fn: upper
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: discard
    uid: sink
`)
	renamed := spec("renamed.yaml", `name: counts
parallelism: 2
pipeline:
  - op: generator
    uid: source
  - op: keyBy
  - op: sum
    uid: sum-per-key
  - op: discard
    uid: sink
`)
	maxp := spec("maxp.yaml", `name: counts
parallelism: 2
pipeline:
  - op: generator
    uid: source
  - op: keyBy
  - op: count
    uid: count-per-key
    maxParallelism: 256
`)
	uidsFile := spec("uids.txt", "# new job\nsource\ncount-per-key\n")
	cases := []struct {
		golden string
		args   []string
		code   int
	}{
		{"against-same-spec.golden", []string{"inspect", "--no-check", "--against", same, sp}, 0},
		{"against-renamed-spec.golden", []string{"inspect", "--no-check", "--against", renamed, sp}, 3},
		{"against-maxp-spec.golden", []string{"inspect", "--no-check", "--against", maxp, sp}, 4},
		{"against-uids-file.golden", []string{"inspect", "--no-check", "--against", uidsFile, sp}, 0},
		{"against-uid-list.golden", []string{"inspect", "--no-check", "--against", "source,upper", sp}, 3},
		{"against-json.golden", []string{"inspect", "--json", "--no-check", "--against", renamed, sp}, 3},
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

func TestDiffGolden(t *testing.T) {
	root := t.TempDir()
	a := flinkFixture(t, "new-stateful-udf-migration-itcase-flink1.17-rocksdb-checkpoint", root, "chk-1")
	b := flinkFixture(t, "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", root, "chk-2")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"diff.golden", []string{"diff", "--uids", migrationUIDList, a, b}},
		{"diff-json.golden", []string{"diff", "--json", a, b}},
	} {
		code, out, errb := runCkpt(t, tc.args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb)
		}
		golden(t, tc.golden, strings.ReplaceAll(out, root, "ROOT"))
	}
	if code, _, errb := runCkpt(t, "diff", a); code != 2 || !strings.Contains(errb, "accepts 2 arg") {
		t.Errorf("one argument: exit %d %s", code, errb)
	}
}
