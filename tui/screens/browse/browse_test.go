package browse_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens

	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/browse"
)

func TestBrowseGolden(t *testing.T) {
	job := "/demo/checkpoints/" + demo.JobID
	tests := []struct {
		name     string
		uri      string
		readonly bool
		keys     []string
	}{
		{name: "browse-root", uri: "/demo"},
		{name: "browse-checkpoints", uri: "/demo/checkpoints"},
		{name: "browse-jobdir", uri: job},
		{name: "browse-savepoints", uri: "/demo/savepoints", keys: []string{"j"}},
		{name: "browse-help", uri: job, keys: []string{"?"}},
		{name: "browse-help-readonly", uri: job, readonly: true, keys: []string{"?"}},
		{name: "browse-filter", uri: job, keys: []string{"/", "c", "h", "k", "-", "1", "8"}},
		{name: "browse-filter-applied", uri: job, keys: []string{"/", "s", "h", "enter"}},
		{name: "browse-command", uri: "/demo", keys: []string{":", "b", "r", "o"}},
		{name: "browse-missing", uri: "/demo/no-such-dir"},
		{name: "browse-confirm-delete", uri: job, keys: []string{"j", "D"}},
		{name: "browse-du", uri: "/demo/savepoints", keys: []string{"U"}},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			t.Run(fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H), func(t *testing.T) {
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, Readonly: tc.readonly, FS: tuitest.DemoFS(t)}, "browse", tc.uri)
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H))
			})
		}
	}
}

func TestBrowseRecognisesSnapshotTree(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 120, H: 30, FS: tuitest.DemoFS(t)}, "browse", "/demo/checkpoints/"+demo.JobID)
	b := a.Top().(*browse.Browse)
	got := map[string]string{}
	for _, e := range browse.Entries(b) {
		got[e.Name] = e.Kind
	}
	want := map[string]string{
		"chk-17": "CHK ✓", "chk-18": "CHK ✓", "chk-19": "CHK ✗ partial",
		"shared": "SHARED", "taskowned": "TASKOWNED",
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: kind %q, want %q", n, got[n], w)
		}
	}
	f := tuitest.FrameText(a)
	for _, s := range []string{"3 chk dirs, 2 complete", "latest complete chk-18", "newest chk-19 has no _metadata"} {
		if !strings.Contains(f, s) {
			t.Errorf("job summary lacks %q:\n%s", s, f)
		}
	}
	// Sizes of checkpoint dirs come from du: chk-18 = its _metadata + 1 KiB.
	meta, err := os.ReadFile(filepath.Join(tuitest.Fixtures(t), "apache-flink", "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range browse.Entries(b) {
		if e.Name == "chk-18" && e.Size != int64(len(meta))+1024 {
			t.Errorf("chk-18 size %d, want %d", e.Size, len(meta)+1024)
		}
	}
}

func TestBrowseNavigation(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 100, H: 30, FS: tuitest.DemoFS(t)}, "browse", "/demo")
	tuitest.Press(t, a, "l") // into checkpoints/
	if got := a.Top().Location(); got != "/demo/checkpoints" {
		t.Fatalf("after l: at %s", got)
	}
	tuitest.Press(t, a, "enter") // into the job dir (a plain dir: enter browses)
	if got := a.Top().Location(); got != "/demo/checkpoints/"+demo.JobID {
		t.Fatalf("after enter: at %s", got)
	}
	if !strings.Contains(tuitest.FrameText(a), "demo › checkpoints › "+demo.JobID) {
		t.Errorf("breadcrumbs missing:\n%s", tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "j", "enter") // chk-18 is complete: enter inspects it
	if got := a.Top().Location(); got != "/demo/checkpoints/"+demo.JobID+"/chk-18/_metadata" {
		t.Fatalf("enter on a complete checkpoint: at %s (%T)", got, a.Top())
	}
	if _, ok := a.Top().(*browse.Browse); ok {
		t.Fatalf("enter on a complete checkpoint should inspect it, not browse")
	}
	tuitest.Press(t, a, "esc", "esc", "esc")
	if got := a.Top().Location(); got != "/demo" {
		t.Fatalf("esc ×3: at %s", got)
	}
	tuitest.Press(t, a, "esc") // the first screen stays
	if a.Depth() != 1 {
		t.Fatalf("esc on the first screen popped it")
	}
	tuitest.Press(t, a, "l", "h") // parent replaces
	if got := a.Top().Location(); got != "/demo" || a.Depth() != 2 {
		t.Fatalf("h: at %s depth %d", got, a.Depth())
	}
}

func TestQuitOnlyWhenNotTyping(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: tuitest.DemoFS(t)}, "browse", "/demo")
	tuitest.Press(t, a, "/", "q")
	if a.Quitting() {
		t.Fatal("q in the filter quit the app")
	}
	if !strings.Contains(tuitest.FrameText(a), "/q") {
		t.Errorf("q was not typed into the filter:\n%s", tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "esc", ":", "q")
	if a.Quitting() {
		t.Fatal("q on the command line quit before enter")
	}
	tuitest.Press(t, a, "enter")
	if !a.Quitting() {
		t.Fatal(":q did not quit")
	}
	b := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: tuitest.DemoFS(t)}, "browse", "/demo")
	tuitest.Press(t, b, "/", "x", "ctrl+c")
	if !b.Quitting() {
		t.Fatal("ctrl+c while typing did not quit")
	}
	c := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: tuitest.DemoFS(t)}, "browse", "/demo")
	tuitest.Press(t, c, "q")
	if !c.Quitting() {
		t.Fatal("q did not quit")
	}
}

func TestDeleteIsDangerous(t *testing.T) {
	chk := "/demo/checkpoints/" + demo.JobID + "/chk-17"
	for _, readonly := range []bool{false, true} {
		t.Run(fmt.Sprintf("readonly=%v", readonly), func(t *testing.T) {
			fsys := tuitest.DemoFS(t)
			a := tuitest.Open(t, tuitest.Opts{W: 100, H: 30, FS: fsys, Readonly: readonly}, "browse", "/demo/checkpoints/"+demo.JobID)
			tuitest.Press(t, a, "?")
			help := tuitest.FrameText(a)
			if strings.Contains(help, "delete") == readonly {
				t.Errorf("help lists delete=%v in readonly=%v:\n%s", !readonly, readonly, help)
			}
			tuitest.Press(t, a, "esc")
			// chk-17 is the third row (chk-19, chk-18 come first: newest first).
			tuitest.Press(t, a, "j", "j", "D")
			if readonly {
				if strings.Contains(tuitest.FrameText(a), "DELETE") {
					t.Fatal("readonly offered a delete confirmation")
				}
				tuitest.Press(t, a, "y")
			} else {
				if !strings.Contains(tuitest.FrameText(a), "DELETE "+chk) {
					t.Fatalf("no confirmation:\n%s", tuitest.FrameText(a))
				}
				tuitest.Press(t, a, "n") // cancel first
				if _, err := fsys.Stat(t.Context(), chk); err != nil {
					t.Fatalf("cancelled delete removed it: %v", err)
				}
				tuitest.Press(t, a, "D", "y")
			}
			_, err := fsys.Stat(t.Context(), chk+"/_metadata")
			if readonly && err != nil {
				t.Fatalf("readonly delete removed %s", chk)
			}
			if !readonly && !storage.IsNotExist(err) {
				t.Fatalf("confirmed delete left %s/_metadata: %v", chk, err)
			}
			// The demo's MANIFEST file is not referenced by the fixture's
			// _metadata (its handles name the machine that wrote it): a
			// delete leaves it, and says so.
			if _, err := fsys.Stat(t.Context(), chk+"/MANIFEST-000004"); err != nil {
				t.Fatalf("a file the snapshot does not reference went: %v", err)
			}
			if !readonly && !strings.Contains(tuitest.FrameText(a), "left 1") {
				t.Fatalf("the result does not say what was left:\n%s", tuitest.FrameText(a))
			}
		})
	}
}

func TestUntrustedNamesAreSanitised(t *testing.T) {
	dir := t.TempDir()
	evil := "chk-7\x1b]52;c;ZXZpbA==\x07\x1b[2J"
	if err := os.WriteFile(filepath.Join(dir, evil), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "日本語-名前"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: storage.NewLocal()}, "browse", dir)
	raw := a.Render()
	if strings.Contains(raw, "\x1b]52") || strings.Contains(raw, "\x1b[2J") || strings.Contains(raw, "\x07") {
		t.Fatalf("a control sequence from a file name reached the terminal: %q", raw)
	}
	plain := tuitest.FrameText(a)
	if !strings.Contains(plain, `chk-7\x1b]52;c;ZXZpbA==\x07\x1b[2J`) {
		t.Errorf("escaped name not shown:\n%s", plain)
	}
	for i, l := range strings.Split(plain, "\n") {
		if w := ansi.StringWidth(l); w != 80 {
			t.Errorf("line %d is %d cells (wide runes mis-measured?): %q", i, w, l)
		}
	}
}

func TestStreamedListingIsCompleteAndSorted(t *testing.T) {
	dir := t.TempDir()
	const n = 3500 // several pages of the local lister
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f-%d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: storage.NewLocal()}, "browse", dir)
	b := a.Top().(*browse.Browse)
	if len(browse.Entries(b)) != n {
		t.Fatalf("%d entries, want %d", len(browse.Entries(b)), n)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("f-%d", i)
	}
	slices.SortFunc(want, snapshot.CompareEntryNames) // the order of ckpt ls
	for i, e := range browse.Entries(b) {
		if e.Name != want[i] {
			t.Fatalf("entry %d is %s, want %s (the order of ckpt ls)", i, e.Name, want[i])
		}
	}
	if !strings.Contains(tuitest.FrameText(a), "3,500 entries") {
		t.Errorf("status lacks the count:\n%s", tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "G")
	if !strings.Contains(tuitest.FrameText(a), want[n-1]+" ") {
		t.Errorf("G did not reach the end")
	}
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "f-349")
	tuitest.Press(t, a, "enter")
	if got := browse.Rows(b); got != 11 { // f-349, f-3490..f-3499
		t.Errorf("filter f-349 kept %d rows, want 11", got)
	}
}

// chk-N sort by N, newest first (chk-10 before chk-9), as ckpt ls and the
// snapshots pane list them.
func TestBrowseSortsCheckpointsNewestFirst(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"chk-9", "chk-10", "chk-1", "shared", "taskowned"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: storage.NewLocal()}, "browse", dir)
	var got []string
	for _, e := range browse.Entries(a.Top().(*browse.Browse)) {
		got = append(got, e.Name)
	}
	if want := "chk-10 chk-9 chk-1 shared taskowned"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
}

// Words: one chk-N is "1 chk dir".
func TestBrowseJobSummaryPlural(t *testing.T) {
	dir := filepath.Join(t.TempDir(), demo.JobID)
	if err := os.MkdirAll(filepath.Join(dir, "chk-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: storage.NewLocal()}, "browse", dir)
	if f := tuitest.FrameText(a); !strings.Contains(f, "1 chk dir,") || strings.Contains(f, "1 chk dirs") {
		t.Errorf("no \"1 chk dir\":\n%s", f)
	}
}
