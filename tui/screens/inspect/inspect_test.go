package inspect_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/inspect"
)

func TestInspectGolden(t *testing.T) {
	job := "/demo/checkpoints/" + demo.JobID
	typeUIDs := append([]string{"u"}, strings.Split(tuitest.MigrationUIDs, "")...)
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
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: tuitest.DemoFS(t)}, "inspect", tc.args...)
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}

func decodeFixture(t *testing.T, name string) *snapshot.Metadata {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tuitest.Fixtures(t), "apache-flink", name, "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInspectLoadsUIDFile(t *testing.T) {
	fsys := tuitest.DemoFS(t)
	dir := fsys.(tuitest.PrefixFS).Root
	if err := os.WriteFile(filepath.Join(dir, "uids.txt"), []byte("# job uids\nCheckpointingSource1\n\n  CheckpointingKeyedStateFlatMap1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "inspect", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19")
	tuitest.Press(t, a, "u")
	tuitest.Type(t, a, "@/demo/uids.txt")
	tuitest.Press(t, a, "enter")
	s := a.Top().(*inspect.Inspect)
	var got []string
	for _, o := range inspect.Target(s).Operators {
		got = append(got, o.UID)
	}
	if strings.Join(got, ",") != "CheckpointingSource1,CheckpointingKeyedStateFlatMap1" {
		t.Fatalf("uids from file: %q", got)
	}
	f := tuitest.FrameText(a)
	if !strings.Contains(f, "69f32d314b97c6f7f9ed7873983167f2 CheckpointingSource1") {
		t.Errorf("operator 69f32d… not named CheckpointingSource1:\n%s", f)
	}
	tuitest.Press(t, a, "u")
	tuitest.Type(t, a, "@/demo/none.txt")
	tuitest.Press(t, a, "enter")
	if err := a.Context().Tasks.LastErr; err == nil || !strings.Contains(err.Error(), "none.txt") {
		t.Errorf("missing uid file: error %v", err)
	}
}

func TestInspectCorruptMetadataNamesOffset(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(tuitest.Fixtures(t), "apache-flink", "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", "_metadata")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "_metadata")
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	a := tuitest.Open(t, tuitest.Opts{W: 120, H: 30, FS: storage.NewLocal()}, "inspect", p)
	f := tuitest.FrameText(a)
	if !strings.Contains(f, "byte offset") || !strings.Contains(f, "truncated") {
		t.Errorf("truncated _metadata: frame does not name offset and cause:\n%s", f)
	}
	if !strings.Contains(f, "format v4") {
		t.Errorf("header decoded before the failure should still show:\n%s", f)
	}
}

func TestInspectSubtaskChecksFiles(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.DemoFS(t)}, "inspect", "/demo/checkpoints/"+demo.JobID+"/chk-18")
	// Find an operator with keyed incremental state and open its subtask 0.
	s := a.Top().(*inspect.Inspect)
	idx := -1
	for i, kinds := range inspect.OperatorKinds(s) {
		if strings.Contains(kinds, "keyed") {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("no keyed operator in the 1.20 RocksDB checkpoint")
	}
	inspect.Select(s, idx)
	tuitest.Press(t, a, "enter", "enter")
	st, ok := a.Top().(*inspect.SubtaskScreen)
	if !ok {
		t.Fatalf("top is %T", a.Top())
	}
	var files, missing int
	for _, f := range inspect.Files(st) {
		files++
		if !strings.HasPrefix(f.Path, "/demo/checkpoints/"+demo.JobID+"/chk-18/") {
			t.Errorf("relative handle not resolved against chk-18: %s", f.Path)
		}
		if f.Missing {
			missing++
		}
	}
	// The fixture ships only _metadata, not the state files it references.
	if files == 0 || missing != files {
		t.Errorf("files %d, missing %d: every referenced file should be checked and found missing", files, missing)
	}
}

// A job spec as the new job (its graph knows the IDs of operators without
// uid, parallelism and max parallelism): the dry-run is inspector's, with
// the max-parallelism refusal and no "uncertain" note.
func TestInspectDryRunAgainstJobSpec(t *testing.T) {
	for _, sz := range tuitest.Sizes {
		name := fmt.Sprintf("inspect-dry-run-spec-%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: tuitest.DemoFS(t)}, "inspect", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19")
			var asked string
			a.Context().SpecTarget = func(path string) (inspector.Target, error) {
				asked = path
				mapID, _ := snapshot.ParseOperatorID("1f2b5df5a66154aca61fcb26193792be")
				return inspector.Target{Source: "job spec " + path, Complete: true, Operators: []inspector.TargetOperator{
					{UID: "CheckpointingSource1", Parallelism: 8, MaxParallelism: 4, MaxParallelismConfigured: true},
					{Name: "Map", ID: mapID, Parallelism: 1, MaxParallelism: 4},
					{UID: "CheckpointingKeyedStateFlatMap1", Parallelism: 4, MaxParallelism: 4},
					{UID: "brand-new-operator", Parallelism: 2, MaxParallelism: 128},
				}}, nil
			}
			tuitest.Press(t, a, "u")
			tuitest.Type(t, a, "@/jobs/upgrade.yaml")
			tuitest.Press(t, a, "enter", "r")
			if asked != "/jobs/upgrade.yaml" {
				t.Fatalf("spec loader asked for %q", asked)
			}
			f := tuitest.FrameText(a)
			for _, want := range []string{"(Map)", "FAILS", "1 FAIL", "NEW (empty)"} {
				if !strings.Contains(f, want) {
					t.Errorf("frame lacks %q:\n%s", want, f)
				}
			}
			if strings.Contains(f, "UNCERTAIN") {
				t.Errorf("a job spec knows every ID; the plan should not be uncertain:\n%s", f)
			}
			tuitest.Golden(t, a, name)
		})
	}
}

// `ckpt inspect -i --against X` opens the screen with the dry-run on.
func TestInspectOpensWithAgainst(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.DemoFS(t)}, "inspect", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19", "--against="+tuitest.MigrationUIDs)
	s := a.Top().(*inspect.Inspect)
	plan := inspect.Plan(s)
	if plan == nil {
		t.Fatalf("dry-run not on (dryRun %v)", inspect.DryRun(s))
	}
	if len(plan.Restored) != 3 || len(plan.Dropped) != 3 || len(plan.New) != 1 {
		t.Errorf("plan: %d restored, %d dropped, %d new; want 3, 3, 1", len(plan.Restored), len(plan.Dropped), len(plan.New))
	}
	b := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.DemoFS(t)}, "inspect", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19", "--uids="+tuitest.MigrationUIDs)
	if s := b.Top().(*inspect.Inspect); inspect.DryRun(s) || inspect.Target(s) == nil {
		t.Errorf("--uids should name operators without the dry-run (dryRun %v, target %v)", inspect.DryRun(s), inspect.Target(s))
	}
	if _, err := a.Context().Screens.Open(a.Context(), "inspect", []string{"/x", "--bogus=1"}); err == nil {
		t.Error("unknown option accepted")
	}
}

// A snapshot whose referenced files are missing decodes fine and cannot
// be restored: the first line of the body says so, in the error style;
// with every file present nothing is said.
func TestInspectSaysMissingFilesFirst(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "job")
	a, b := filepath.Join(job, "shared", "a.sst"), filepath.Join(job, "shared", "b.sst")
	for _, f := range []string{a, b} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, make([]byte, 100), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chk := sptest.WriteCheckpoint(t, storage.NewLocal(), job, 6, tuitest.Now, a, b)
	firstBodyLine := func() string {
		app := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: storage.NewLocal()}, "inspect", chk)
		return strings.Split(tuitest.FrameText(app), "\n")[2] // after the header bar and the title
	}
	if l := firstBodyLine(); strings.Contains(l, "cannot be restored") {
		t.Errorf("every file present, yet: %q", l)
	}
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if l := firstBodyLine(); !strings.Contains(l, "✗ cannot be restored: 1 of 2 referenced files are missing") {
		t.Errorf("first body line with b.sst missing: %q", l)
	}
}

// The dry run says more than its counts: keyed state an operator no
// longer keyed ignores (lost though it "restores"), and that a uid list
// cannot have its max parallelism checked.
func TestInspectDryRunNotes(t *testing.T) {
	const sp = "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19"
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: tuitest.DemoFS(t)}, "inspect", sp, "--against="+tuitest.MigrationUIDs)
	if f := tuitest.FrameText(a); !strings.Contains(f, "max parallelism NOT CHECKED") {
		t.Errorf("uid list: no max-parallelism note:\n%s", f)
	}
	b := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: tuitest.DemoFS(t), Specs: func(path string) (inspector.Target, error) {
		return inspector.Target{Source: "job spec " + path, Complete: true, Operators: []inspector.TargetOperator{
			{UID: "CheckpointingSource1", Parallelism: 1, MaxParallelism: 4},
			{UID: "CheckpointingKeyedStateFlatMap1", Parallelism: 4, MaxParallelism: 4, NotKeyed: true},
		}}, nil
	}}, "inspect", sp, "--against=@/jobs/v3.yaml")
	f := tuitest.FrameText(b)
	if !strings.Contains(f, "KEYED STATE IGNORED: 1 operator (") || strings.Contains(f, "NOT CHECKED") {
		t.Errorf("job spec with a keyed operator made non-keyed:\n%s", f)
	}
}

// Finding 6: the dry run's reason for an operator is read in full in the
// details pane (tab), wrapped, not cut at 80 columns.
func TestInspectDryRunReasonInFull(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: tuitest.DemoFS(t)}, "inspect", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19", "--against="+tuitest.MigrationUIDs)
	s := a.Top().(*inspect.Inspect)
	idx := -1
	for i := range inspect.OperatorKinds(s) {
		inspect.Select(s, i)
		if strings.Contains(tuitest.FrameText(a), "> ") && inspect.Verdict(s) == "dropped" {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("no dropped operator in the plan")
	}
	tuitest.Press(t, a, "tab")
	f := strings.Join(strings.Fields(tuitest.FrameText(a)), " ")
	if want := "DROPPED: no operator of the new job claims it (needs -n; the state is lost)"; !strings.Contains(f, want) {
		t.Errorf("the reason is cut; want %q in:\n%s", want, tuitest.FrameText(a))
	}
}

// s on an operator opens the state screen for it, by name, with the
// decoded _metadata handed over: its states, types and entry counts.
func TestInspectOpensStateScreen(t *testing.T) {
	fsys := tuitest.PrefixFS{FS: storage.NewLocal(), Prefix: "/flink", Root: filepath.Join(tuitest.Fixtures(t), "apache-flink")}
	a := tuitest.Open(t, tuitest.Opts{W: 120, H: 30, FS: fsys}, "inspect", "/flink/operatorstate_complexKeyed-flink1.20")
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "01203aa9")
	tuitest.Press(t, a, "enter", "s")
	f := tuitest.FrameText(a)
	for _, want := range []string{"state 01203aa9", "operator 01203aa9a12dc1ec725e03853dd7c8f2", "values", "LIST", "List<Integer>", "window-contents"} {
		if !strings.Contains(f, want) {
			t.Errorf("state screen after s lacks %q:\n%s", want, f)
		}
	}
	if _, ok := a.Top().(*inspect.Inspect); ok {
		t.Error("s did not open a screen")
	}
}
