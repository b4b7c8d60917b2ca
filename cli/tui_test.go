package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// -i hands the new job to the TUI's inspect screen: --against turns its
// dry run on, --uids/--uids-file/--job only name operators; files go as
// @path, lists as they are.
func TestInspectTUIArgs(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(spec, []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		o    inspectOptions
		want []string
	}{
		{inspectOptions{}, nil},
		{inspectOptions{against: spec}, []string{"--against=@" + spec}},
		{inspectOptions{against: "a,b"}, []string{"--against=a,b"}},
		{inspectOptions{job: spec}, []string{"--uids=@" + spec}},
		{inspectOptions{uidsFile: "u.txt"}, []string{"--uids=@u.txt"}},
		{inspectOptions{uids: "a,b"}, []string{"--uids=a,b"}},
	}
	for _, tc := range tests {
		if got := inspectTUIArgs(tc.o); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
	if got := diffTUIArgs(diffOptions{uids: "a"}); !reflect.DeepEqual(got, []string{"--uids=a"}) {
		t.Errorf("diff: %q", got)
	}
}

// A malformed -m is a usage error before any terminal is touched.
func TestTUIBadTargetIsUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-m", "ftp://jm:8081"}, &out, &errb); code != ExitUsage {
		t.Fatalf("exit %d, want %d (stderr %q)", code, ExitUsage, errb.String())
	}
	if !strings.Contains(errb.String(), "-m/--jobmanager") || !strings.Contains(errb.String(), "ftp") {
		t.Errorf("stderr does not name the flag and the value: %q", errb.String())
	}
}
