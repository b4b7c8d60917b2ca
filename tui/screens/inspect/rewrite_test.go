package inspect_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

const (
	// rwSrc is a real Flink 1.20 savepoint with its keyed state in files
	// (tuitest.FileSavepoint); rwDst is where W suggests writing it.
	rwSrc = "/sp/savepoint-0a0b0c-0d0e0f0a0b0c"
	rwDst = rwSrc + "-rewritten"
	// Its operators, in the list's order: a source's operator state, the
	// window operator's keyed state (4 files), a stateless one, a sink's.
	opSource = "6730ef7375fb60f9d9bbdfdfd174d803"
	opWindow = "01203aa9a12dc1ec725e03853dd7c8f2"
)

func rewriteFS(t *testing.T) (tuitest.PrefixFS, int) {
	root := t.TempDir()
	fsys := tuitest.PrefixFS{FS: storage.NewLocal(), Prefix: "/sp", Root: root}
	return fsys, tuitest.FileSavepoint(t, fsys.In(rwSrc))
}

// keys presses keys, typing the longer ones.
func keys(t *testing.T, a *shell.App, ks ...string) {
	t.Helper()
	for _, k := range ks {
		if len(k) > 1 && k != "enter" && k != "esc" {
			tuitest.Type(t, a, k)
			continue
		}
		tuitest.Press(t, a, k)
	}
}

// mark drops the source and renames the window operator to windows-v2.
var mark = []string{"x", "j", "R", "windows-v2", "enter"}

func TestInspectRewriteGolden(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{name: "inspect-rewrite-marked", keys: mark},
		{name: "inspect-rewrite-rename-prompt", keys: []string{"j", "R", "windows-v2"}},
		{name: "inspect-rewrite-confirm", keys: append(append([]string{}, mark...), "W", "enter")},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				fsys, _ := rewriteFS(t)
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: fsys}, "inspect", rwSrc)
				keys(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}

// x, R and W rewrite as ckpt rewrite does: a new directory, the source
// unchanged, the dropped operator gone, the renamed one's state under its
// new uid's ID with its files copied; the result opens in the inspector.
func TestInspectRewrite(t *testing.T) {
	fsys, files := rewriteFS(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "inspect", rwSrc)
	keys(t, a, mark...)
	keys(t, a, "W", "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "REWRITE into NEW dir "+rwDst) || !strings.Contains(f, "drop "+opSource[:8]) ||
		!strings.Contains(f, "rename "+opWindow[:8]+" → windows-v2") {
		t.Fatalf("confirmation:\n%s", f)
	}
	keys(t, a, "n")
	if _, err := fsys.Stat(t.Context(), rwDst); err == nil {
		t.Fatal("a cancelled rewrite wrote its destination")
	}
	keys(t, a, "W", "enter", "y")
	if got := a.Top().Title(); got != "inspect "+storage.Base(rwDst) {
		t.Fatalf("the rewritten snapshot is not open in the inspector: top is %q\n%s", got, tuitest.FrameText(a))
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, fmt.Sprintf("rewrote to %s: 1 dropped, 1 renamed, 3 operators kept; %d files", rwDst, files)) {
		t.Fatalf("result line:\n%s", f)
	}
	m, err := snapshot.Read(t.Context(), fsys, rwDst)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := snapshot.ParseOperatorID(opSource)
	win, _ := snapshot.ParseOperatorID(opWindow)
	if m.Operator(src) != nil || m.Operator(win) != nil {
		t.Fatalf("dropped or renamed operator still under its old ID: %v", m.Operators)
	}
	op := m.Operator(snapshot.OperatorIDFromUID("windows-v2"))
	if op == nil || op.StateSize() == 0 {
		t.Fatalf("the window operator's state is not under windows-v2's ID")
	}
	if orig, err := snapshot.Read(t.Context(), fsys, rwSrc); err != nil || len(orig.Operators) != 4 || orig.Operator(win) == nil {
		t.Fatalf("the source changed: %v", err)
	}
}

// With a new job given (u), the rewrite is dry-run first: a job that
// would still drop state gets nothing written.
func TestInspectRewriteRefusedByDryRun(t *testing.T) {
	fsys, _ := rewriteFS(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "inspect", rwSrc)
	keys(t, a, mark...)
	keys(t, a, "u", "windows-v2", "enter", "W", "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "Dry-run against the new job") {
		t.Fatalf("confirmation does not say it dry-runs:\n%s", f)
	}
	keys(t, a, "y")
	if f := tuitest.FrameText(a); !strings.Contains(f, "rewrite refused, nothing written") {
		t.Fatalf("no refusal:\n%s", f)
	}
	if _, err := fsys.Stat(t.Context(), rwDst); err == nil {
		t.Fatal("a refused rewrite wrote its destination")
	}
}

// Never in place: a destination that exists is refused, and nothing in
// it changes.
func TestInspectRewriteRefusesExistingDir(t *testing.T) {
	fsys, _ := rewriteFS(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "inspect", rwSrc)
	keys(t, a, "x", "W")
	for range len(rwDst) {
		keys(t, a, "backspace")
	}
	keys(t, a, rwSrc, "enter", "y")
	if f := tuitest.FrameText(a); !strings.Contains(f, "rewrite failed") {
		t.Fatalf("writing into the source was not refused:\n%s", f)
	}
	if m, err := snapshot.Read(t.Context(), fsys, rwSrc); err != nil || len(m.Operators) != 4 {
		t.Fatalf("the source changed: %v", err)
	}
}

// --readonly: x, R and W are in neither the keys nor the help; nothing is
// marked or written.
func TestInspectRewriteReadonly(t *testing.T) {
	fsys, _ := rewriteFS(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys, Readonly: true}, "inspect", rwSrc)
	keys(t, a, "?")
	if f := tuitest.FrameText(a); strings.Contains(f, "rewrite:") {
		t.Fatalf("readonly help offers the rewrite:\n%s", f)
	}
	keys(t, a, "esc", "x", "R", "W")
	f := tuitest.FrameText(a)
	if strings.Contains(f, "DROP") || strings.Contains(f, "new uid") || strings.Contains(f, "REWRITE") {
		t.Fatalf("readonly marked or prompted:\n%s", f)
	}
}
