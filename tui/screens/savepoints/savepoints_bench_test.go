package savepoints_test

import (
	"fmt"
	"testing"
	"time"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens

	spdomain "github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/savepoints"
)

// BenchmarkViewSavepoints10k: a frame of the savepoints screen holding
// 10,000 savepoints with a retention preview (budget: 2 ms a frame).
func BenchmarkViewSavepoints10k(b *testing.B) {
	fsys, _ := tuitest.SavepointTree(b)
	a := tuitest.Open(b, tuitest.Opts{W: 160, H: 48, FS: fsys}, "savepoints", "/sp")
	s := a.Top().(*savepoints.Savepoints)
	sps := make([]spdomain.Savepoint, 10000)
	for i := range sps {
		name := fmt.Sprintf("savepoint-%06x-%012x", i%50, i)
		sps[i] = spdomain.Savepoint{Name: name, URI: "/sp/" + name, JobPrefix: fmt.Sprintf("%06x", i%50), Complete: true,
			ModTime: tuitest.Now.Add(-time.Duration(i) * time.Minute), Bytes: int64(i) << 10, Format: "CANONICAL", CheckpointID: int64(i), Kind: "savepoint"}
	}
	savepoints.Preview(s, sps, spdomain.Policy{KeepNewest: 3}, 5000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		savepoints.Move(s, 1-2*(i%2))
		_ = a.Render()
	}
}
