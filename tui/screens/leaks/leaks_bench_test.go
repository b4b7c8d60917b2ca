package leaks

import (
	"fmt"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// BenchmarkViewLeaks10k: the leak report with 10,000 orphaned files.
func BenchmarkViewLeaks10k(b *testing.B) {
	th, err := themes.Pick(themes.Choice{Name: "dark", DarkBG: true})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	ctx := &shell.Context{Theme: th, Global: shell.DefaultGlobalKeys(), Now: func() time.Time { return now }}
	ctx.Tasks = shell.NewTasks(ctx.Now)
	job := "/ck/5f2c0194b6e2a8d3c1e07a9b4d6f8e21"
	s := New(ctx, job)
	s.SetSize(160, 45)
	s.rep = &inspector.LeakReport{JobDir: job, Orphans: &inspector.OrphanReport{}}
	for i := 0; i < 10000; i++ {
		s.rep.Orphans.Orphans = append(s.rep.Orphans.Orphans, inspector.OrphanFile{URI: fmt.Sprintf("%s/shared/%08d.sst", job, i), Size: int64(i), ModTime: now})
	}
	s.build()
	s.list.Select(5000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.list.Move(1 - 2*(i%2))
		_ = s.View()
	}
}
