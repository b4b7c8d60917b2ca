package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDuLocal(t *testing.T) {
	root := snapshotTree(t)
	cases := []struct {
		golden string
		args   []string
	}{
		{"du-total.golden", []string{"du", root}},
		{"du-depth1.golden", []string{"du", "-d", "1", root}},
		{"du-depth2-size.golden", []string{"du", "-d", "2", "--sort", "size", root}},
		{"du-bytes.golden", []string{"du", "--bytes", "-d", "1", root}},
		{"du-json.golden", []string{"du", "--json", "-d", "1", root}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errb := runCkpt(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			golden(t, tc.golden, strings.ReplaceAll(out, root, "ROOT"))
		})
	}

	// The breakdown adds up to the total, at every depth.
	code, out, _ := runCkpt(t, "du", "--json", "-d", "3", root)
	var rep duReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
		t.Fatal(code, err)
	}
	var check func(r *duReport)
	check = func(r *duReport) {
		if len(r.Children) == 0 {
			return
		}
		var b, f, d int64 = 0, 0, 1
		for _, c := range r.Children {
			check(c)
			b, f, d = b+c.Bytes, f+c.Files, d+c.Dirs
		}
		if b != r.Bytes || f != r.Files || d != r.Dirs {
			t.Errorf("%s: totals %d/%d/%d but children add up to %d/%d/%d", r.URI, r.Bytes, r.Files, r.Dirs, b, f, d)
		}
	}
	check(&rep)
	if rep.Files != 7 || rep.Dirs != 5 || rep.Bytes != 1536+1600+3<<20+5<<20+123+700+10 {
		t.Fatalf("du totals %+v", rep)
	}

	// A file alone.
	code, out, _ = runCkpt(t, "du", "--bytes", filepath.Join(root, "chk-17", "_metadata"))
	if code != 0 || !strings.Contains(out, "1536      1     0") {
		t.Fatalf("du of a file:\n%s", out)
	}
}
