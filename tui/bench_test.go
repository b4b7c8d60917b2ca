package tui

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// Speed targets of the TUI (issue 6): first frame within 200 ms of start;
// View under 2 ms with 100,000 listed entries and with a 1,000-operator
// snapshot; a 100 MB _metadata shows its header and operators before the
// full decode finishes. Run: go test -run '^$' -bench . ./tui/

// frameWriter signals when the program has drawn its first frame.
type frameWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
	done chan struct{}
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), []byte("ckpt │")) {
		w.once.Do(func() { close(w.done) })
	}
	return len(p), nil
}

// BenchmarkFirstFrame: from building the app (config, theme, first screen)
// to the first frame written by the real bubbletea program.
func BenchmarkFirstFrame(b *testing.B) {
	fsys := tuitest.DemoFS(b)
	env := map[string]string{"HOME": b.TempDir()}
	for i := 0; i < b.N; i++ {
		start := time.Now()
		w := &frameWriter{done: make(chan struct{})}
		app, err := newAppFor(Options{Screen: "browse", Args: []string{"/demo/checkpoints/" + DemoJobID}, FS: fsys, Getenv: func(k string) string { return env[k] }})
		if err != nil {
			b.Fatal(err)
		}
		pr, pw := io.Pipe()
		p := tea.NewProgram(app, tea.WithInput(pr), tea.WithOutput(w), tea.WithWindowSize(80, 24),
			tea.WithColorProfile(colorprofile.ANSI256), tea.WithoutSignalHandler())
		go func() {
			<-w.done
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms-to-first-frame")
			p.Quit()
		}()
		if _, err := p.Run(); err != nil {
			b.Fatal(err)
		}
		pw.Close()
	}
}
