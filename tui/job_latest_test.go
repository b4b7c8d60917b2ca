package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// #2: L picks the newest complete snapshot whose _metadata header decodes —
// a retained chk-N or a savepoint, whichever was written last — and opens
// the resume screen (dry run first) on it, saying what it compared.
func TestJobRestartFromLatestGoodSnapshot(t *testing.T) {
	root := func(a *shell.App) string { return a.Context().FS.(prefixFS).root }
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    string
		note    []string
	}{
		{name: "newest checkpoint", want: fakeJobDir + "/chk-47",
			note: []string{"latest good snapshot: chk-47, written 8s ago", "newer than savepoint savepoint-3f2a1b-0c9d8e7f6a5b (1m ago)"}},
		{name: "corrupt newest checkpoint is passed over", want: fakeJobDir + "/chk-46",
			prepare: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "flink", "checkpoints", fakeJobID, "chk-47", "_metadata")
				if err := os.WriteFile(p, []byte("not a snapshot"), 0o644); err != nil {
					t.Fatal(err)
				}
				os.Chtimes(p, testNow.Add(-8*time.Second), testNow.Add(-8*time.Second))
			},
			note: []string{"latest good snapshot: chk-46", "passed over: chk-47 ("}},
		{name: "savepoint newer than every checkpoint", want: fakeSP40,
			prepare: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "flink", "savepoints", "savepoint-3f2a1b-0c9d8e7f6a5b", "_metadata")
				os.Chtimes(p, testNow.Add(-time.Second), testNow.Add(-time.Second))
			},
			note: []string{"latest good snapshot: savepoint savepoint-3f2a1b-0c9d8e7f6a5b, written 1s ago", "newer than chk-47 (8s ago)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newJobApp(t, 160, 48, &fakeCluster{}, false, "job", fakeJobID)
			if tc.prepare != nil {
				tc.prepare(t, root(a))
				press(t, a, "ctrl+r")
			}
			press(t, a, "L")
			r, ok := a.Top().(*Resume)
			if !ok {
				t.Fatalf("L opened %T:\n%s", a.Top(), frameText(a))
			}
			if r.snapshot != tc.want {
				t.Errorf("resume from %q, want %q", r.snapshot, tc.want)
			}
			f := frameText(a)
			for _, w := range tc.note {
				if !strings.Contains(f, w) {
					t.Errorf("resume screen lacks %q:\n%s", w, f)
				}
			}
		})
	}
}

// Nothing restorable: a clear message, no resume screen; read-only mode
// has no such key.
func TestJobRestartFromLatestRefusals(t *testing.T) {
	a := newJobApp(t, 160, 48, &fakeCluster{}, false, "job", fakeJobID)
	j := a.Top().(*Job)
	for i := range j.snapshots.snaps {
		j.snapshots.snaps[i].complete = format.No
	}
	press(t, a, "L")
	if _, ok := a.Top().(*Job); !ok || !strings.Contains(frameText(a), "no complete snapshot of this job on storage") {
		t.Errorf("L without a complete snapshot:\n%s", frameText(a))
	}
	a = newJobApp(t, 160, 48, &fakeCluster{}, true, "job", fakeJobID)
	press(t, a, "L")
	if _, ok := a.Top().(*Job); !ok {
		t.Errorf("read-only L opened %T", a.Top())
	}
}
