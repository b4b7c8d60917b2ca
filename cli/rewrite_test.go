package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// rewriteSavepoint writes a Flink 2.x canonical savepoint with operators
// "src" (operator state), "count" and "sum" (keyed), each subtask's state
// in its own file.
func rewriteSavepoint(t *testing.T, dir string) {
	t.Helper()
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 9}
	if err := m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone)); err != nil {
		t.Fatal(err)
	}
	file := func(rel string, n int) snapshot.StreamHandle {
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		return snapshot.NewRelativeFileHandle(rel, int64(n))
	}
	src := snapshot.NewOperatorState("src", "src", 1, 128)
	src.Subtasks = []*snapshot.SubtaskState{{ManagedOperatorState: snapshot.NewOperatorStreamHandle(file("src-0", 100),
		snapshot.NamedOperatorState{Name: "offsets", Offsets: []int64{0}})}}
	m.Operators = append(m.Operators, src)
	for j, uid := range []string{"count", "sum"} {
		op := snapshot.NewOperatorState(uid, uid, 2, 128)
		for i := int32(0); i < 2; i++ {
			r := snapshot.KeyGroupRangeFor(128, 2, i)
			op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: i, ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(r,
				make([]int64, r.Count), file(uid+"-"+string(rune('0'+i)), 1000*(j+1)))})
		}
		m.Operators = append(m.Operators, op)
	}
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(dir, snapshot.MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
}

func TestRewriteCmd(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
		// written: DST holds a snapshot afterwards.
		written bool
	}{
		{"rewrite-rename-drop.golden", []string{"--rename", "count=count-v2", "--drop", "sum"}, 0, true},
		{"rewrite-against.golden", []string{"--rename", "count=count-v2", "--drop", snapshot.OperatorIDFromUID("sum").String(), "--against", "src,count-v2,sink", "--copy"}, 0, true},
		{"rewrite-against-refused.golden", []string{"--rename", "count=count-v2", "--against", "src,count-v2"}, 3, false},
		{"rewrite-set-uid-hash.golden", []string{"--set-uid-hash", snapshot.OperatorIDFromUID("sum").String() + "=hash:0123456789abcdef0123456789abcdef", "--bytes"}, 0, true},
		{"rewrite-json.golden", []string{"--rename", "count=count-v2", "--json", "--copy"}, 0, true},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join(root, "savepoint-aaaaaa-000000000001")
			rewriteSavepoint(t, src)
			dst := filepath.Join(root, "rewritten")
			code, out, errb := runCkpt(t, append(append([]string{"rewrite"}, tc.args...), src, dst)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out, errb)
			}
			golden(t, tc.golden, strings.ReplaceAll(out+errb, root, "ROOT"))
			_, err := os.Stat(filepath.Join(dst, "_metadata"))
			if tc.written != (err == nil) {
				t.Errorf("DST written: %v, want %v", err == nil, tc.written)
			}
			if !tc.written {
				if _, err := os.Stat(dst); err == nil {
					t.Error("a refused rewrite created DST")
				}
			}
		})
	}
}

func TestRewriteCmdErrors(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "sp")
	rewriteSavepoint(t, src)
	full := filepath.Join(root, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "precious"), []byte("mine"), 0o644)
	dst := filepath.Join(root, "dst")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"rewrite", src, dst}, 2, "nothing to change"},
		{[]string{"rewrite", "--rename", "count", src, dst}, 2, "want OLD_UID=NEW_UID"},
		{[]string{"rewrite", "--rename", "count=", src, dst}, 2, "new uid is empty"},
		{[]string{"rewrite", "--set-uid-hash", "count=x", src, dst}, 2, "32 hex digits"},
		{[]string{"rewrite", "--drop", "nope", src, dst}, 1, `no operator with uid or ID "nope"`},
		{[]string{"rewrite", "--drop", "sum", "--rename", "sum=x", src, dst}, 2, "named twice"},
		{[]string{"rewrite", "--rename", "sum=count", src, dst}, 2, "would both have"},
		{[]string{"rewrite", "--drop", "sum", src, full}, 1, "not empty"},
		{[]string{"rewrite", "--drop", "sum", filepath.Join(root, "absent"), dst}, 1, "absent"},
		{[]string{"rewrite", "--drop", "sum", src}, 2, "accepts 2 arg"},
	} {
		code, _, errb := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errb, tc.want) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errb, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(dst); err == nil {
		t.Error("a failed rewrite left DST")
	}
	if b, _ := os.ReadFile(filepath.Join(full, "precious")); string(b) != "mine" {
		t.Error("the precious file changed")
	}
}
