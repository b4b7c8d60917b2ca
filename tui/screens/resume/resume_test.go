package resume_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
)

// rescaleSpec is a real job spec of the migration fixtures' job: its
// source and keyed flat map by uid, no max parallelism configured (so
// Flink adopts the snapshot's, 4, which must be at least the new
// parallelism).
const rescaleSpec = "testdata/specs/migration.yaml"

// Finding 8: the parallelism field rescales like `ckpt run -s -p N`: the
// dry run re-plans with it (above the snapshot's max parallelism Flink
// refuses, and so does the screen) and the submission asks for it.
func TestResumeParallelism(t *testing.T) {
	fsys := tuitest.DemoFS(t)
	spec := rescaleSpec
	fc := &tuitest.FakeCluster{Version: "ckpt-dev"}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys, Cluster: fc, Target: "local", Specs: tuitest.FakeSpecTarget},
		"resume", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19", spec)
	r := a.Top().(*resume.Resume)
	setP := func(v string) {
		tuitest.Press(t, a, "P")
		for range 4 {
			tuitest.Press(t, a, "backspace")
		}
		tuitest.Type(t, a, v)
		tuitest.Press(t, a, "enter")
	}
	setP("8")
	p := r.Selection().Plan
	if p == nil || len(p.Failures) == 0 || !strings.Contains(p.Failures[0].Reason, "max parallelism") {
		t.Fatalf("parallelism 8 over max parallelism 4: plan %+v (err %v)", p, r.Selection().PlanErr)
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "-p        8 (rescale") || !strings.Contains(f, "FAILS") {
		t.Errorf("frame lacks the parallelism and the refusal:\n%s", f)
	}
	tuitest.Press(t, a, "enter", "y")
	if len(fc.Runs) != 0 {
		t.Fatalf("submitted a resume Flink refuses: %+v", fc.Runs)
	}
	setP("3")
	if p := r.Selection().Plan; p == nil || len(p.Failures) != 0 {
		t.Fatalf("parallelism 3 within max parallelism 4: plan %+v (err %v)", p, r.Selection().PlanErr)
	}
	tuitest.Press(t, a, "n", "y", "enter", "y") // the fixture has state no operator claims
	if len(fc.Runs) != 1 || fc.Runs[0].Parallelism != 3 {
		t.Fatalf("runs %+v, want one at parallelism 3", fc.Runs)
	}
}

// Finding 3: right before submitting, the snapshot is checked again; one
// subsumed (deleted) since the dry run is not submitted, and the error
// names it.
func TestResumeRechecksSnapshotBeforeSubmit(t *testing.T) {
	fsys := tuitest.DemoFS(t).(tuitest.PrefixFS)
	chk := "/demo/checkpoints/" + demo.JobID + "/chk-18"
	fc := &tuitest.FakeCluster{Version: "ckpt-dev"}
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: fsys, Cluster: fc, Target: "local", Specs: tuitest.FakeSpecTarget},
		"resume", chk, "testdata/specs/orders-enrichment-v2.yaml")
	tuitest.Press(t, a, "n", "y")
	if err := os.RemoveAll(fsys.In(chk)); err != nil {
		t.Fatal(err)
	}
	tuitest.Press(t, a, "enter", "y")
	if len(fc.Runs) != 0 || len(fc.Uploads) != 0 {
		t.Fatalf("submitted a resume from a deleted snapshot: %+v", fc.Runs)
	}
	err := a.Context().Tasks.LastErr
	if err == nil || !strings.Contains(err.Error(), chk) || !strings.Contains(err.Error(), "not submitted") {
		t.Errorf("error %v, want one naming %s", err, chk)
	}
}

// The picker offers the newest snapshot first.
func TestResumePickerNewestFirst(t *testing.T) {
	a := tuitest.OpenJob(t, 80, 24, &tuitest.FakeCluster{}, false, "jobs")
	now := tuitest.Now
	got := resume.PickerOrder(a.Context(), []routes.SnapRow{
		{ID: 9, Path: "chk-9", ModTime: now.Add(-3 * time.Minute)},
		{ID: 10, Path: "chk-10", ModTime: now.Add(-2 * time.Minute)},
		{Savepoint: true, Path: "savepoint-old", ModTime: now.Add(-time.Hour)},
		{ID: 11, Path: "chk-11", ModTime: now.Add(-time.Minute)},
	})
	if want := "chk-11 chk-10 chk-9 savepoint-old"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
}

// Finding 6: the confirmation wraps instead of being cut, and the
// selected row's WHY is shown in full under the table.
func TestResumeConfirmAndWhyReadable(t *testing.T) {
	fc := &tuitest.FakeCluster{Version: "ckpt-dev"}
	chk := "/demo/checkpoints/" + demo.JobID + "/chk-18"
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: tuitest.DemoFS(t), Cluster: fc, Target: "local", Specs: tuitest.FakeSpecTarget},
		"resume", chk, "testdata/specs/orders-enrichment-v2.yaml")
	if f := tuitest.FrameText(a); !strings.Contains(f, "why: no operator of the new job has this ID") {
		t.Errorf("no full WHY of the selected row:\n%s", f)
	}
	tuitest.Press(t, a, "n", "y", "enter")
	f := strings.Join(strings.Fields(tuitest.FrameText(a)), " ")
	if !strings.Contains(f, chk+" WITH -n") || !strings.Contains(f, "y = submit, any other key = not now") {
		t.Errorf("the confirmation is cut:\n%s", tuitest.FrameText(a))
	}
}

// Goldens: rescaled past the snapshot's max parallelism (the dry run
// refuses), and the wrapped submit confirmation.
func TestResumeGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{name: "resume-rescale-refused", keys: []string{"P", "8", "enter"}},
		{name: "resume-rescale-confirm", keys: []string{"P", "3", "enter", "n", "y", "enter"}},
	} {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: tuitest.DemoFS(t), Cluster: &tuitest.FakeCluster{Version: "ckpt-dev"},
					Target: "local", Specs: tuitest.FakeSpecTarget}, "resume", "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19", rescaleSpec)
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}
