package tuitest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// FileSavepoint writes to dir (a real local directory, created) a
// savepoint with state in files: the real Flink 1.20 canonical savepoint
// operatorstate_complexKeyed, its inline key-group streams moved to one
// file per subtask, referenced relative to dir — something to copy,
// rewrite and read state from whose files are really there. It returns
// how many state files it wrote.
func FileSavepoint(t testing.TB, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Fixtures(t), "apache-flink", "operatorstate_complexKeyed-flink1.20", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, op := range m.Operators {
		for i, st := range op.Subtasks {
			h, ok := st.ManagedKeyedState.(*snapshot.KeyGroupsHandle)
			if !ok {
				continue
			}
			data, ok := h.Delegate.(*snapshot.ByteStreamHandle)
			if !ok {
				continue
			}
			name := fmt.Sprintf("%s-%d", op.ID.String()[:8], i)
			if err := os.WriteFile(filepath.Join(dir, name), data.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			h.Delegate = snapshot.NewRelativeFileHandle(name, int64(len(data.Data)))
			n++
		}
	}
	out, err := snapshot.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "_metadata"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}
