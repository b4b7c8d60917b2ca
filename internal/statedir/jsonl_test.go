package statedir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type note struct {
	N int    `json:"n"`
	S string `json:"s"`
}

func TestReadJSONL(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "notes.jsonl")
	if got, n, err := ReadJSONL[note](p); err != nil || got != nil || n != 0 {
		t.Fatalf("missing file: %v %d %v", got, n, err)
	}
	if err := AppendJSONL(p, note{1, "a"}, note{2, "b"}); err != nil {
		t.Fatal(err)
	}
	if err := AppendJSONL(p, note{3, "c"}); err != nil {
		t.Fatal(err)
	}
	got, n, err := ReadJSONL[note](p)
	if err != nil || len(got) != 3 || got[2] != (note{3, "c"}) || n != 3 {
		t.Fatalf("%v %d %v", got, n, err)
	}
	raw, _ := os.ReadFile(p)
	for _, tc := range []struct {
		name, text string
		want       int
		err        string
	}{
		{"torn last line is dropped", string(raw) + `{"n":4,"s":"d`, 3, ""},
		{"blank lines skipped", "\n" + string(raw) + "\n\n", 3, ""},
		{"bad line in the middle", `{"n":1}` + "\n" + `{"n":` + "\n" + `{"n":3}` + "\n", 0, ":2: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(q, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, _, err := ReadJSONL[note](q)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), q+tc.err) {
					t.Fatalf("err %v, want one naming %s%s", err, q, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Fatalf("%v, %v; want %d values", got, err, tc.want)
			}
		})
	}
}
