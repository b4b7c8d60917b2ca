package state_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/state"
)

// flinkFS serves the real Flink fixtures (../shared/fixtures/flink-metadata)
// under /flink, so frames do not depend on where the checkout is.
func flinkFS(t testing.TB) storage.FS {
	return tuitest.PrefixFS{FS: storage.NewLocal(), Prefix: "/flink", Root: tuitest.Fixtures(t) + "/apache-flink"}
}

const (
	// A real Flink 1.20 canonical savepoint, state inline in _metadata:
	// a window operator (max parallelism 128, 4 subtasks) whose "values"
	// list state holds keys 0..9.
	complexKeyed = "/flink/operatorstate_complexKeyed-flink1.20"
	windowOp     = "01203aa9a12dc1ec725e03853dd7c8f2"
	// A real Flink 1.10 savepoint: keyed Long state and a source's union
	// operator state of Strings.
	migration110 = "/flink/new-stateful-udf-migration-itcase-flink1.10-savepoint"
)

func TestStateGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		keys []string
	}{
		{name: "state-all-operators", args: []string{complexKeyed}},
		{name: "state-operator", args: []string{complexKeyed, windowOp}},
		{name: "state-details", args: []string{complexKeyed, windowOp}, keys: []string{"tab"}},
		{name: "state-entries", args: []string{complexKeyed, windowOp}, keys: []string{"enter"}},
		{name: "state-entry-value", args: []string{complexKeyed, windowOp}, keys: []string{"enter", "j", "enter"}},
		{name: "state-lookup-prompt", args: []string{complexKeyed, windowOp}, keys: []string{"enter", "f", "7"}},
		{name: "state-lookup", args: []string{complexKeyed, windowOp}, keys: []string{"enter", "f", "7", "enter"}},
		{name: "state-filter", args: []string{complexKeyed, windowOp}, keys: []string{"enter", "/", "8"}},
		{name: "state-operator-state", args: []string{migration110}, keys: []string{"enter"}},
		{name: "state-timers", args: []string{migration110, "41e91aae0bee218c44306cf7d21940ad"}, keys: []string{"enter"}},
		{name: "state-missing-files", args: []string{"/flink/new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint", "d5c8b168c6cbfe8c507a10f88b325243"}},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: flinkFS(t)}, "state", tc.args...)
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}

// The entries of a state are exactly what the reader gives (`ckpt state`
// prints the same): key, key group, value; the lookup reads the key's key
// group only and finds the one entry of key 7.
func TestStateEntriesAndLookup(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: flinkFS(t)}, "state", complexKeyed, windowOp)
	tuitest.Press(t, a, "enter")
	f := tuitest.FrameText(a)
	for _, want := range []string{"entries 1–10", "7 (4)", "[4]", "127 (2)", "[2]", "end"} {
		if !strings.Contains(f, want) {
			t.Errorf("entries frame lacks %q:\n%s", want, f)
		}
	}
	tuitest.Press(t, a, "f", "7", "enter")
	f = tuitest.FrameText(a)
	if !strings.Contains(f, "key 7 → key group 113 of 128 (only it was read) · 1 entry") || !strings.Contains(f, "[7]") || strings.Contains(f, "[3]") {
		t.Errorf("lookup of key 7:\n%s", f)
	}
	if got := a.Top().(interface{ CopyText() string }).CopyText(); got != "[7]" {
		t.Errorf("y copies %q, want the value [7]", got)
	}
	tuitest.Press(t, a, "esc")
	tuitest.Press(t, a, "f")
	tuitest.Type(t, a, "x")
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, `key "x" is not a Integer`) {
		t.Errorf("a key that is not the key type:\n%s", f)
	}
}

// A corrupt byte in the state is shown as the reader's message, naming
// the stream and the byte offset — never a crash. The byte is flipped in
// a real Flink 1.20 savepoint's inline state (a key group's state id).
func TestStateCorruptByteNamesOffset(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(tuitest.Fixtures(t), "apache-flink", "operatorstate_complexKeyed-flink1.20", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := snapshot.ParseOperatorID(windowOp)
	flipped := false
	for _, st := range m.Operator(id).Subtasks {
		h, ok := st.ManagedKeyedState.(*snapshot.KeyGroupsHandle)
		if !ok || flipped {
			continue
		}
		data, ok := h.Delegate.(*snapshot.ByteStreamHandle)
		if !ok {
			continue
		}
		for _, o := range h.Offsets {
			if o > 0 {
				data.Data[o] = 0x7F // the first key group's state id: 0x7F00, no such state
				flipped = true
				break
			}
		}
	}
	if !flipped {
		t.Fatal("no inline key group to corrupt")
	}
	out, err := snapshot.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "_metadata"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := tuitest.PrefixFS{FS: storage.NewLocal(), Prefix: "/corrupt", Root: dir}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "state", "/corrupt", windowOp)
	f := tuitest.FrameText(a)
	if !strings.Contains(f, "values") || !strings.Contains(f, "?") {
		t.Errorf("the count should fail and say so (?):\n%s", f)
	}
	tuitest.Press(t, a, "enter")
	f = tuitest.FrameText(a)
	if !strings.Contains(f, "✗") || !strings.Contains(f, "inline state") || !strings.Contains(f, "offset") || !strings.Contains(f, "state id") {
		t.Errorf("corrupt key group: the frame should name the stream, offset and what was read:\n%s", f)
	}
	if testing.Verbose() {
		t.Log(f)
	}
}

// Paging: only one page is held; moving past its end reads the next page
// from where it starts (here inside key group 113, after its first
// entry), and moving back before its start re-reads the previous one.
func TestStatePagingForwardAndBack(t *testing.T) {
	defer state.SetPageSize(7)()
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: flinkFS(t)}, "state", complexKeyed, windowOp)
	tuitest.Press(t, a, "enter")
	e := a.Top().(*state.Entries)
	f := tuitest.FrameText(a)
	if e.Held() != 7 || !strings.Contains(f, "entries 1–7 · key groups 7–113 of 128 · more follow") {
		t.Fatalf("page 1 holds %d:\n%s", e.Held(), f)
	}
	tuitest.Press(t, a, "G", "j")
	f = tuitest.FrameText(a)
	if e.Held() != 3 || !strings.Contains(f, "entries 8–10 · key groups 113–127 of 128 · end") || !strings.Contains(selected(f), "113 (7)") {
		t.Fatalf("page 2 (starts after key group 113's first entry) holds %d:\n%s", e.Held(), f)
	}
	tuitest.Press(t, a, "j", "j", "j") // the end: stays
	if f := tuitest.FrameText(a); !strings.Contains(f, "entries 8–10") || !strings.Contains(selected(f), "127 (2)") {
		t.Fatalf("past the end:\n%s", f)
	}
	tuitest.Press(t, a, "g", "k")
	f = tuitest.FrameText(a)
	if e.Held() != 7 || !strings.Contains(f, "entries 1–7") || !strings.Contains(selected(f), "113 (3)") {
		t.Fatalf("back to page 1, on its last entry:\n%s", f)
	}
	// The filter reads across pages: matches 2 and 7 come from two key
	// groups' pages, one page of matches.
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "[")
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "matches 1–7") {
		t.Fatalf("filter [:\n%s", f)
	}
}

// selected is the frame's cursor line.
func selected(frame string) string {
	for _, l := range strings.Split(frame, "\n") {
		if strings.HasPrefix(l, ">") {
			return l
		}
	}
	return ""
}

// Timers (a real Flink 1.10 savepoint's processing-time timers) show key,
// namespace and time in their own columns.
func TestStateTimers(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: flinkFS(t)}, "state", migration110, "41e91aae0bee218c44306cf7d21940ad")
	tuitest.Press(t, a, "enter")
	f := tuitest.FrameText(a)
	if !strings.Contains(f, "NAMESPACE") || !strings.Contains(selected(f), "timer at 1595488393160") || !strings.Contains(selected(f), "(3)") {
		t.Errorf("timers:\n%s", f)
	}
}
