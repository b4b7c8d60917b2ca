package savepoints_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens

	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/savepoints"
)

func TestSavepointsGolden(t *testing.T) {
	tests := []struct {
		name     string
		readonly bool
		keys     []string
	}{
		{name: "savepoints"},
		{name: "savepoints-policy", keys: []string{"p", "keep 1 older 7d", "enter"}},
		{name: "savepoints-policy-prompt", keys: []string{"p", "keep 2"}},
		{name: "savepoints-confirm-plan", keys: []string{"p", "keep 1", "enter", "X"}},
		{name: "savepoints-confirm-one", keys: []string{"j", "j", "D"}},
		{name: "savepoints-help-readonly", readonly: true, keys: []string{"?"}},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			t.Run(fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H), func(t *testing.T) {
				fsys, _ := tuitest.SavepointTree(t)
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, Readonly: tc.readonly, FS: fsys}, "savepoints", "/sp")
				tuitest.Keys(t, a, tc.keys...)
				tuitest.Golden(t, a, fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H))
			})
		}
	}
}

func spNames(s *savepoints.Savepoints) string {
	var out []string
	for _, r := range savepoints.Rows(s) {
		out = append(out, r.Rel)
	}
	return strings.Join(out, " ")
}

// A disposal keeps its entry (marked disposing) until the deletion is
// confirmed, then drops it; one that cannot be done safely keeps the entry
// with the reason, and deletes nothing.
func TestSavepointsDisposeIsTracked(t *testing.T) {
	fsys, dir := tuitest.SavepointTree(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "savepoints", "/sp")
	s := a.Top().(*savepoints.Savepoints)
	if got := spNames(s); got != "team/savepoint-aaaaaa-000000000003 savepoint-cccccc-000000000009 savepoint-ffffff-000000000001 savepoint-aaaaaa-000000000002 savepoint-aaaaaa-000000000001 team/savepoint-bbbbbb-000000000001 savepoint-dddddd-000000000001" {
		t.Fatalf("rows %s", got)
	}
	tuitest.Press(t, a, "j", "j", "j", "D") // savepoint-aaaaaa-000000000002
	if !s.Capturing() {
		t.Fatal("D must ask for confirmation")
	}
	_, cmd := a.Update(tuitest.Key("y"))
	r := savepoints.SelectedRow(s)
	if r == nil || r.Rel != "savepoint-aaaaaa-000000000002" || !r.Disposing || !strings.Contains(tuitest.FrameText(a), "disposing") {
		t.Fatalf("while disposing: %+v\n%s", r, tuitest.FrameText(a))
	}
	tuitest.Drain(t, a, cmd)
	if strings.Contains(spNames(s), "aaaaaa-000000000002") {
		t.Errorf("the disposed savepoint is still listed: %s", spNames(s))
	}
	if _, err := os.Stat(filepath.Join(dir, "savepoint-aaaaaa-000000000002")); !os.IsNotExist(err) {
		t.Errorf("not deleted: %v", err)
	}
	if !strings.Contains(tuitest.FrameText(a), "disposed /sp/savepoint-aaaaaa-000000000002 — deleted from storage") {
		t.Errorf("no toast:\n%s", tuitest.FrameText(a))
	}

	// Not self-contained, no cluster: refused, kept, reason shown.
	tuitest.Keys(t, a, "g", "j", "j", "D", "y")
	r = savepoints.SelectedRow(s)
	if r == nil || r.Rel != "savepoint-ffffff-000000000001" || r.Disposing || !strings.Contains(r.Err, "outside its directory") {
		t.Fatalf("refused disposal: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "savepoint-ffffff-000000000001", "_metadata")); err != nil {
		t.Errorf("a refused disposal deleted something: %v", err)
	}
	if a.Context().Tasks.LastErr == nil || len(a.Context().Tasks.Running()) != 0 {
		t.Errorf("tasks: last err %v, running %d", a.Context().Tasks.LastErr, len(a.Context().Tasks.Running()))
	}

	// The policy's plan, confirmed: only what the preview showed goes.
	tuitest.Keys(t, a, "p", "keep 1", "enter")
	if savepoints.PlanRemoves(s) != 1 { // aaaaaa-000000000001 (…0002 is gone already)
		t.Fatalf("plan removes %d: %+v", savepoints.PlanRemoves(s), savepoints.PlanRemoves(s))
	}
	tuitest.Press(t, a, "X", "n")
	if _, err := os.Stat(filepath.Join(dir, "savepoint-aaaaaa-000000000001")); err != nil {
		t.Fatalf("a cancelled plan deleted something: %v", err)
	}
	tuitest.Press(t, a, "X", "y")
	if _, err := os.Stat(filepath.Join(dir, "savepoint-aaaaaa-000000000001")); !os.IsNotExist(err) {
		t.Errorf("the plan's savepoint is still there: %v", err)
	}
	want := "team/savepoint-aaaaaa-000000000003 savepoint-cccccc-000000000009 savepoint-ffffff-000000000001 team/savepoint-bbbbbb-000000000001 savepoint-dddddd-000000000001"
	if got := spNames(s); got != want {
		t.Errorf("after the plan: %s", got)
	}
}

func TestSavepointsReadonlyCannotDispose(t *testing.T) {
	fsys, dir := tuitest.SavepointTree(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, Readonly: true, FS: fsys}, "savepoints", "/sp")
	tuitest.Keys(t, a, "j", "j", "j", "D", "y", "p", "keep 1", "enter", "X", "y")
	for _, n := range []string{"savepoint-aaaaaa-000000000002", "savepoint-aaaaaa-000000000001"} {
		if _, err := os.Stat(filepath.Join(dir, n, "_metadata")); err != nil {
			t.Errorf("read-only mode deleted %s: %v", n, err)
		}
	}
}

func TestSavepointsPolicyParse(t *testing.T) {
	for in, want := range map[string]string{"keep 3": "keep 3", "older 14d": "older 14d", "keep 2 older-than 2w": "keep 2 older 14d", "": ""} {
		p, err := savepoints.ParsePolicy(in)
		if err != nil || savepoints.PolicyText(p) != want {
			t.Errorf("%q: %q %v", in, savepoints.PolicyText(p), err)
		}
	}
	for _, in := range []string{"keep", "keep x", "keep -1", "older soon", "newest 3"} {
		if _, err := savepoints.ParsePolicy(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestSavepointsBadRoot(t *testing.T) {
	fsys, _ := tuitest.SavepointTree(t)
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: fsys}, "savepoints", "/sp/nope")
	if f := tuitest.FrameText(a); !strings.Contains(f, "✗") || !strings.Contains(f, "/sp/nope") {
		t.Errorf("no error naming the path:\n%s", f)
	}
	if _, err := a.Context().Screens.Open(a.Context(), "savepoints", nil); err == nil {
		t.Error("savepoints without a URI opened")
	}
}

// With a target, savepoints are named by the job whose id they start
// with; a disposal the target cannot do falls back to deleting the
// self-contained savepoint, and the toast says so.
func TestSavepointsWithTarget(t *testing.T) {
	fc := &tuitest.FakeCluster{}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "savepoints", tuitest.FakeSPDir)
	s := a.Top().(*savepoints.Savepoints)
	if len(savepoints.Rows(s)) < 2 {
		t.Fatalf("rows %s", spNames(s))
	}
	for _, r := range savepoints.Rows(s) {
		if r.SP.JobPrefix == "3f2a1b" && r.SP.Owner() != "orders-enrichment" {
			t.Errorf("%s: owner %q", r.Rel, r.SP.Owner())
		}
	}
	if !strings.Contains(tuitest.FrameText(a), "orders-enrichment") {
		t.Errorf("no job name on screen:\n%s", tuitest.FrameText(a))
	}
	first := savepoints.Rows(s)[0].SP.URI
	tuitest.Keys(t, a, "D", "y")
	if strings.Contains(spNames(s), storage.Base(first)) {
		t.Errorf("%s still listed", first)
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "deleted from storage (the cluster's disposal failed") {
		t.Errorf("the fallback is not said:\n%s", f)
	}
}

// :savepoints without a directory lists the target's savepoint dir; a
// target that sets none says which key is missing.
func TestSavepointsDefaultDirFromTarget(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "savepoints")
	s := a.Top().(*savepoints.Savepoints)
	if savepoints.Root(s) != tuitest.FakeSPDir || len(savepoints.Rows(s)) != 2 || savepoints.Err(s) != nil {
		t.Fatalf("root %q rows %d err %v", savepoints.Root(s), len(savepoints.Rows(s)), savepoints.Err(s))
	}
	a = tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{Conf: map[string]string{"parallelism.default": "2"}}, false, "savepoints")
	if f := tuitest.FrameText(a); !strings.Contains(f, "execution.checkpointing.savepoint-dir") {
		t.Errorf("no hint at the missing key:\n%s", f)
	}
	ctx := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: storage.NewLocal()}, "browse", t.TempDir()).Context()
	if _, err := ctx.Screens.Open(ctx, "savepoints", nil); err == nil {
		t.Error("savepoints without a directory or a target opened")
	}
}

func TestSavepointsDisposeKeepsForeignFiles(t *testing.T) {
	fsys, dir := tuitest.SavepointTree(t)
	notes := filepath.Join(dir, "savepoint-aaaaaa-000000000002", "notes.txt")
	if err := os.WriteFile(notes, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "savepoints", "/sp")
	tuitest.Press(t, a, "j", "j", "j", "D") // savepoint-aaaaaa-000000000002
	_, cmd := a.Update(tuitest.Key("y"))
	tuitest.Drain(t, a, cmd)
	if b, err := os.ReadFile(notes); err != nil || string(b) != "precious" {
		t.Fatalf("a file beside the savepoint went: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "savepoint-aaaaaa-000000000002", "_metadata")); !os.IsNotExist(err) {
		t.Errorf("the savepoint's _metadata stayed: %v", err)
	}
	if !strings.Contains(tuitest.FrameText(a), "left 1: notes.txt (not part of the snapshot)") {
		t.Errorf("the toast does not name what was left:\n%s", tuitest.FrameText(a))
	}
}
