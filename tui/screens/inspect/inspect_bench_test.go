package inspect

import (
	tea "charm.land/bubbletea/v2"

	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// bigMetadata builds a snapshot of ops operators × subtasks subtasks with
// incremental RocksDB-style handles.
func bigMetadata(ops, subtasks, sharedPerSubtask int) *snapshot.Metadata {
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 42}
	for o := 0; o < ops; o++ {
		op := snapshot.NewOperatorState(fmt.Sprintf("operator-%04d", o), fmt.Sprintf("Window(%d)", o), int32(subtasks), 4096)
		for s := 0; s < subtasks; s++ {
			var shared []snapshot.NamedHandle
			for f := 0; f < sharedPerSubtask; f++ {
				shared = append(shared, snapshot.NamedHandle{LocalName: fmt.Sprintf("%06d.sst", f),
					Handle: snapshot.NewFileHandle(fmt.Sprintf("hdfs://nn:8020/flink/checkpoints/%s/shared/%08x-%d-%d-%06d.sst", demo.JobID, o*131+s, o, s, f), 64<<20)})
			}
			h := snapshot.NewIncrementalHandle(42, "2d7f1c3a-5b4e-4f60-9a8b-1c2d3e4f5a6b", snapshot.KeyGroupRangeFor(4096, int32(subtasks), int32(s)), 1<<20,
				snapshot.NewRelativeFileHandle(fmt.Sprintf("meta-%d-%d", o, s), 4096), shared,
				[]snapshot.NamedHandle{{LocalName: "MANIFEST-000004", Handle: snapshot.NewRelativeFileHandle(fmt.Sprintf("manifest-%d-%d", o, s), 1024)}},
				fmt.Sprintf("handle-%d-%d", o, s))
			op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: int32(s), ManagedKeyedState: h})
		}
		m.Operators = append(m.Operators, op)
	}
	m.SetProperties(snapshot.CheckpointProperties())
	return m
}

// BenchmarkViewInspect1000Ops: one frame of the operator table of a
// 1,000-operator snapshot with uids mapped and the dry-run on.
func BenchmarkViewInspect1000Ops(b *testing.B) {
	m := bigMetadata(1000, 4, 2)
	ctx, choice, err := shell.NewContext(shell.Setup{FS: storage.NewLocal(), Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	s := newInspect(ctx, "/x/chk-42")
	s.hdr = &snapshot.Header{Version: m.Version, CheckpointID: 42, NumOperators: len(m.Operators)}
	for _, op := range m.Operators {
		s.addOp(op)
	}
	var uids []string
	for i := 0; i < 1000; i += 2 {
		uids = append(uids, fmt.Sprintf("operator-%04d", i))
	}
	t, err := inspector.TargetFromUIDs("bench", uids)
	if err != nil {
		b.Fatal(err)
	}
	s.dryRun = true
	if err := s.setTarget(t); err != nil {
		b.Fatal(err)
	}
	s.rebuild()
	a := shell.NewApp(ctx, s, choice)
	a.StopClock()
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	s.list.Select(500)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.list.Move(1 - 2*(i%2))
		_ = a.Render()
	}
}

// BenchmarkOpen100MB: opening a ≥100 MB _metadata in the inspector. Reports
// when the header and the first operators were on screen and when the
// decode finished; the first must come long before the second.
func BenchmarkOpen100MB(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "_metadata")
	m := bigMetadata(200, 256, 15)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := snapshot.Encode(f, m); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(path)
	if fi.Size() < 100_000_000 {
		b.Fatalf("synthetic _metadata is only %d bytes", fi.Size())
	}
	m = nil
	b.SetBytes(fi.Size())
	b.ResetTimer()
	var firstMs, fullMs float64
	for i := 0; i < b.N; i++ {
		ctx, choice, err := shell.NewContext(shell.Setup{FS: storage.NewLocal(), Getenv: func(string) string { return "" }})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		s := newInspect(ctx, path)
		a := shell.NewApp(ctx, s, choice)
		a.StopClock()
		a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
		cmd := s.Init()
		first := time.Duration(0)
		for cmd != nil {
			msg := cmd()
			_, cmd = a.Update(msg)
			if first == 0 && len(s.rows) > 0 {
				frame := a.Render()
				if !strings.Contains(frame, "format v6") || !strings.Contains(frame, "operator-0000") {
					b.Fatalf("first frame lacks header or operators:\n%s", frame)
				}
				first = time.Since(start)
				if !s.loading {
					b.Fatal("decode finished before the first operators were shown")
				}
			}
		}
		if s.err != nil || len(s.rows) != 200 {
			b.Fatalf("decode: %v, %d operators", s.err, len(s.rows))
		}
		firstMs += float64(first.Microseconds()) / 1000
		fullMs += float64(time.Since(start).Microseconds()) / 1000
	}
	b.ReportMetric(firstMs/float64(b.N), "ms-to-operators")
	b.ReportMetric(fullMs/float64(b.N), "ms-full-decode")
}
