package engine

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
)

// countsJob is the exactly-once pipeline: generator → keyBy → count →
// (optional failure injector) → exactly-once file sink.
func countsJob(out string, records, keys int64, rate float64, p int, fail *builtin.Fail) *graph.Graph {
	g := graph.New("counts")
	s := g.Source("generator", func() operator.Source {
		return &builtin.Generator{Keys: keys, Limit: records, Rate: rate}
	}).UID("source").Parallelism(p).
		KeyBy().Process("count", func() operator.Operator { return &builtin.Count{} }).UID("count").Parallelism(p)
	if fail != nil {
		f := *fail
		s = s.Process("fail", func() operator.Operator { c := f; return &c }).UID("fail")
	}
	s.Sink("sink", func() operator.Operator { return &builtin.FileSink{Dir: out} }).UID("sink")
	return g
}

// reference is what a correct run commits: for each key, counts 1..n.
func reference(records, keys int64) []string {
	var out []string
	for k := int64(0); k < keys; k++ {
		n := records / keys
		if k < records%keys {
			n++
		}
		for c := int64(1); c <= n; c++ {
			out = append(out, fmt.Sprintf("key-%d,%d", k, c))
		}
	}
	sort.Strings(out)
	return out
}

// committed reads every committed part file of a file sink directory.
func committed(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		f.Close()
	}
	sort.Strings(out)
	return out
}

func diff(got, want []string) string {
	g := map[string]int{}
	for _, s := range got {
		g[s]++
	}
	var missing, dup []string
	for _, s := range want {
		if g[s] == 0 {
			missing = append(missing, s)
		} else {
			g[s]--
		}
	}
	for s, n := range g {
		if n > 0 {
			dup = append(dup, s)
		}
	}
	sort.Strings(dup)
	if len(missing) > 5 {
		missing = missing[:5]
	}
	if len(dup) > 5 {
		dup = dup[:5]
	}
	return fmt.Sprintf("got %d lines, want %d; missing e.g. %v; extra/duplicate e.g. %v", len(got), len(want), missing, dup)
}

func cfg(t testing.TB, kv ...string) *config.Config {
	c := config.New()
	for _, a := range kv {
		if err := c.SetDynamic(a); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestExactlyOnceWithPanickingOperator(t *testing.T) {
	exactlyOnceAcrossFailover(t, filepath.Join(t.TempDir(), "ckpt"), failover{records: 20000, keys: 50, failAfter: 3000, rate: 40000, interval: "50ms"})
}

// failover is the counts job with an operator that panics twice.
type failover struct {
	records, keys, failAfter int64
	rate                     float64 // records per second
	interval                 string  // execution.checkpointing.interval
}

// exactlyOnceAcrossFailover runs f checkpointing into dir (any storage):
// the job restarts twice, each time from a checkpoint in dir, and commits
// exactly the reference output.
func exactlyOnceAcrossFailover(t *testing.T, dir string, f failover) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	g := countsJob(out, f.records, f.keys, f.rate, 2, &builtin.Fail{After: f.failAfter, Attempts: 2, Panic: true})
	job, err := Submit(context.Background(), g, cfg(t,
		"execution.checkpointing.interval="+f.interval,
		"execution.checkpointing.dir="+dir,
		"restart-strategy.fixed-delay.delay=10ms",
		"parallelism.default=2",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := job.Wait(); st != Finished {
		t.Fatalf("job ended %s: %v", st, err)
	}
	if job.Attempts() != 2 {
		t.Errorf("attempts = %d, want 2 restarts (each from a checkpoint in %s)", job.Attempts(), dir)
	}
	got, want := committed(t, out), reference(f.records, f.keys)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatal(diff(got, want))
	}
	_ = time.Second
}
