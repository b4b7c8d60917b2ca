package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
)

// Tumbling event-time windows fired by watermarks (the minimum over two
// source subtasks) count every record exactly once — also across a
// failover — and drop nothing as late.
func TestWindowCountExactlyOnce(t *testing.T) {
	const records, keys, size = 12000, 7, 100 // event time n ms; windows of 100 ms
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	g := graph.New("windows")
	g.Source("generator", func() operator.Source { return &builtin.Generator{Keys: keys, Limit: records, Rate: 30000} }).UID("source").Parallelism(2).
		KeyBy().Process("window", func() operator.Operator { return &builtin.WindowCount{Size: size * time.Millisecond} }).UID("window").Parallelism(2).
		Process("fail", func() operator.Operator { return &builtin.Fail{After: 40, Attempts: 1} }).UID("fail").Parallelism(2).
		Map("tag", func(r operator.Record) operator.Record { r.Key = fmt.Sprintf("%s@%d", r.Key, r.Time); return r }).Parallelism(2).
		Sink("sink", func() operator.Operator { return &builtin.FileSink{Dir: out} }).UID("sink").Parallelism(2)
	job, err := Submit(context.Background(), g, cfg(t,
		"execution.checkpointing.interval=30ms",
		"execution.checkpointing.dir="+filepath.Join(tmp, "ckpt"),
		"restart-strategy.fixed-delay.delay=10ms",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := job.Wait(); st != Finished {
		t.Fatalf("%s: %v", st, err)
	}
	if job.Attempts() != 1 {
		t.Errorf("attempts %d, want one restart", job.Attempts())
	}
	want := map[string]int{}
	for n := 0; n < records; n++ {
		want[fmt.Sprintf("key-%d@%d", n%keys, n/size*size)]++
	}
	var ref []string
	for k, c := range want {
		ref = append(ref, fmt.Sprintf("%s,%d", k, c))
	}
	sort.Strings(ref)
	got := committed(t, out)
	if strings.Join(got, "\n") != strings.Join(ref, "\n") {
		t.Fatal(diff(got, ref))
	}
}
