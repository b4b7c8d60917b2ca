package browse

import (
	tea "charm.land/bubbletea/v2"

	"fmt"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// browseWith returns an app whose browser holds n synthetic entries.
func browseWith(b *testing.B, n int) *shell.App {
	ctx, choice, err := shell.NewContext(shell.Setup{FS: storage.NewLocal(), Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	ctx.Now = func() time.Time { return tuitest.Now }
	br, _ := newBrowse(ctx, "/data/flink/checkpoints/"+demo.JobID+"/shared")
	page := make([]storage.FileInfo, 0, 1000)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%08x-%06d.sst", i*2654435761, i)
		page = append(page, storage.FileInfo{URI: "/x/" + name, Name: name, Size: int64(i * 997), ModTime: tuitest.Now.Add(-time.Duration(i) * time.Second)})
		if len(page) == cap(page) {
			br.merge(page)
			page = page[:0]
		}
	}
	br.merge(page)
	a := shell.NewApp(ctx, br, choice)
	a.StopClock()
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	return a
}

// BenchmarkViewBrowse100k: one frame of a directory listing of 100,000
// entries, scrolled to the middle.
func BenchmarkViewBrowse100k(b *testing.B) {
	a := browseWith(b, 100000)
	br := a.Top().(*Browse)
	br.list.Select(50000)
	if got := len(br.entries); got != 100000 {
		b.Fatalf("%d entries", got)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		br.list.Move(1 - 2*(i%2))
		_ = a.Render()
	}
}
