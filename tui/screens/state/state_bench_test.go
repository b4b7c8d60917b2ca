package state

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// BenchmarkFirstPage: from opening the state screen on an operator to its
// first page of entries on screen (the issue's "first page of entries of
// a 1 GiB state in < 300 ms"). By default it measures the largest real
// Flink fixture with keyed entries (operatorstate_complexKeyed-flink1.20);
// CKPT_BENCH_STATE_SP and CKPT_BENCH_STATE_OP name another savepoint and
// operator — the 1 GiB canonical savepoint real Flink writes for
// bench/state_bench_test.go (peers/work/state-bench/values-2.3.0-1024MiB-*,
// operator 8918828246c22e7d25902f74d971b709). The first page reads the
// _metadata, the state heads, and then only key groups from the first on
// until the page is full: its cost is one key group's region, not the
// state's size.
func BenchmarkFirstPage(b *testing.B) {
	_, file, _, _ := runtime.Caller(0)
	sp := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink", "operatorstate_complexKeyed-flink1.20")
	op, want := "01203aa9a12dc1ec725e03853dd7c8f2", []string{"entries 1–10", "[4]"}
	if env := os.Getenv("CKPT_BENCH_STATE_SP"); env != "" {
		sp, op, want = env, os.Getenv("CKPT_BENCH_STATE_OP"), []string{"entries 1–"}
	}
	if _, err := os.Stat(sp); err != nil {
		b.Skipf("savepoint: %v", err)
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		ctx, choice, err := shell.NewContext(shell.Setup{FS: storage.NewLocal(), Getenv: func(string) string { return "" }})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		scr, err := Open(ctx, shell.Request{Args: []string{sp, op}})
		if err != nil {
			b.Fatal(err)
		}
		s := scr.(*Screen)
		a := shell.NewApp(ctx, s, choice)
		a.StopClock()
		a.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
		_, next := a.Update(s.Init()()) // the schema; the count goes on in the background
		_ = next
		_, push := a.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // "values", the first state
		_, initCmd := a.Update(push())
		a.Update(initCmd())
		frame := a.Render()
		total += time.Since(start)
		for _, w := range want {
			if !strings.Contains(frame, w) {
				b.Fatalf("first page not on screen (%q):\n%s", w, frame)
			}
		}
		s.Close()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-first-page")
}
