package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/peers"
)

// Payload benchmarks: keyed state of valueBytes pseudo-random
// (incompressible) bytes per key, rewritten by every record — the same
// operator on both sides (peers' "payload" kind on Flink), so a million
// keys make a gigabyte of state within seconds.

const valueBytes = 1024

// payloadKeys is CKPT_BENCH_PAYLOAD_KEYS (default 1M: ~1 GiB of values).
func payloadKeys() int64 {
	if v, err := strconv.ParseInt(os.Getenv("CKPT_BENCH_PAYLOAD_KEYS"), 10, 64); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// payload is ckpt's twin of the Flink peer's payload operator.
type payload struct {
	operator.Base
	s *state.ValueState[[]byte]
	n uint64
}

func (p *payload) Open(ctx *operator.Context) error {
	var err error
	p.s, err = state.Value(ctx.Keyed, "payload", state.Bytes{})
	return err
}

func (p *payload) Process(r operator.Record, out operator.Collector) error {
	cur, _, err := p.s.Get(r.Key)
	if err != nil {
		return err
	}
	p.n++
	x := p.n*0x9E3779B97F4A7C15 + 1
	if len(cur) > 0 {
		x += uint64(cur[0])
	}
	next := make([]byte, valueBytes)
	for i := 0; i+8 <= len(next); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for b := 0; b < 8; b++ {
			next[i+b] = byte(x >> (8 * b))
		}
	}
	if err := p.s.Put(r.Key, next); err != nil {
		return err
	}
	out.Collect(r)
	return nil
}

func payloadJob(keys int64) *graph.Graph {
	g := graph.New("payload-bench")
	g.Source("generator", func() operator.Source { return &builtin.Generator{Keys: keys} }).UID("gen-source").
		KeyBy().Process("payload", func() operator.Operator { return &payload{} }).UID("payload").
		Sink("discard", func() operator.Operator { return builtin.Discard{} }).UID("sink")
	return g
}

func flinkPayloadJob(name string, keys int64, p int) peers.FlinkJob {
	return peers.FlinkJob{Name: name, Keys: keys, Rate: peers.UnlimitedRate, Parallelism: p, MaxParallelism: 128,
		Backend: "rocksdb", CheckpointInterval: -1, Operators: []peers.FlinkOp{
			{Kind: "source", UID: "gen-source", Name: "gen-source"},
			{Kind: "payload", UID: "payload", Name: "payload", ValueBytes: valueBytes},
			{Kind: "sink", UID: "sink", Name: "sink"}}}
}

// flinkPayloadOptions (used by every benchmark) give Flink's RocksDB what
// ckpt's state has: 256 MiB of managed memory per slot (8 slots × 256
// MiB), matching ckpt's default cache budget per value state per subtask. Flink's MiniCluster default
// (128 MiB for all slots) left RocksDB a 5 MiB write buffer, flushing
// constantly: filling a gigabyte took minutes and would have made the
// comparison unfair to Flink.
func flinkPayloadOptions() peers.FlinkOptions {
	return peers.FlinkOptions{HeapMB: 2048, Slots: 8,
		Config: map[string]string{"taskmanager.memory.managed.size": "2048m"}}
}

// flinkRecordsIn is how many records the vertex whose name contains name
// has read (REST job details).
func flinkRecordsIn(p *peers.FlinkPeer, jobID, name string) (int64, error) {
	resp, err := http.Get(p.RESTURL() + "/jobs/" + jobID)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var j struct {
		Vertices []struct {
			Name    string `json:"name"`
			Metrics struct {
				ReadRecords int64 `json:"read-records"`
			} `json:"metrics"`
		} `json:"vertices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return 0, err
	}
	for _, v := range j.Vertices {
		if strings.Contains(v.Name, name) {
			return v.Metrics.ReadRecords, nil
		}
	}
	return 0, fmt.Errorf("flink job %s has no vertex named like %q", jobID, name)
}

// waitFlinkRecords waits until the payload vertex has read n records.
func waitFlinkRecords(b *testing.B, p *peers.FlinkPeer, jobID string, n int64) time.Duration {
	start := time.Now()
	for {
		got, err := flinkRecordsIn(p, jobID, "payload")
		if err != nil {
			b.Fatal(err)
		}
		if got >= n {
			return time.Since(start)
		}
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("flink: %d of %d records after %s", got, n, time.Since(start))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkStateBeyondCacheVsFlink: 1M keys × 1 KiB of value state against
// ckpt's default 256 MiB cache budget per value state, so most state lives
// in Pebble and the keys, read round-robin, mostly miss the cache; next to
// Flink on RocksDB with the same operator. Both at parallelism 1, without
// checkpoints and with checkpoints every second (Flink: incremental).
// The four measurements alternate CKPT_BENCH_ROUNDS times (default 3) —
// ckpt, Flink, ckpt, Flink — and medians are compared, so a burst of load
// from elsewhere does not decide the ratio.
func BenchmarkStateBeyondCacheVsFlink(b *testing.B) {
	keys := payloadKeys()
	load0 := loadAvg()
	var p *peers.FlinkPeer
	if why := flinkMissing(); why != "" {
		b.Logf("SKIPPING the Flink side: %s", why)
	} else {
		p = peers.StartFlink(b, flinkPayloadOptions())
	}
	// Flink's warm-up must touch every key once too (at its pace on this
	// machine, ~25 µs per record with RocksDB and 1 KiB values).
	warmup := time.Duration(keys) * 25 * time.Microsecond
	type series struct{ ckpt, flink []float64 }
	res := map[string]*series{"no-ckpt": {}, "ckpt-1s": {}}
	var syncs []time.Duration
	for r := 0; r < rounds(); r++ {
		for _, tc := range []struct {
			name     string
			interval time.Duration
		}{{"no-ckpt", 0}, {"ckpt-1s", time.Second}} {
			ours := measureJob(b, payloadJob(keys), keys, tc.interval)
			syncs = append(syncs, ours.syncs...)
			res[tc.name].ckpt = append(res[tc.name].ckpt, ours.recPerSec)
			b.Logf("round %d %s: ckpt %.0f rec/s (%d checkpoints); load average %.1f", r+1, tc.name, ours.recPerSec, ours.completed, loadAvg())
			if p == nil {
				continue
			}
			job := flinkPayloadJob(fmt.Sprintf("beyond-cache-%s-%d", tc.name, r), keys, 1)
			if tc.interval > 0 {
				job.CheckpointInterval, job.Incremental = tc.interval, true
			}
			ft, err := p.Throughput(job, warmup, window())
			if err != nil {
				b.Fatalf("flink %s: %v", tc.name, err)
			}
			res[tc.name].flink = append(res[tc.name].flink, ft.RecordsPerSecond)
			b.Logf("round %d %s: flink rocksdb %.0f rec/s; load average %.1f", r+1, tc.name, ft.RecordsPerSecond, loadAvg())
		}
	}
	for _, name := range []string{"no-ckpt", "ckpt-1s"} {
		s := res[name]
		ours := median(s.ckpt)
		b.ReportMetric(ours, "ckpt-"+name+"-rec/s")
		if p == nil {
			b.Logf("%s: ckpt median %.0f rec/s", name, ours)
			continue
		}
		fl := median(s.flink)
		b.ReportMetric(fl, "flink-rocksdb-"+name+"-rec/s")
		b.ReportMetric(ours/fl, "ratio-"+name)
		b.Logf("%s, medians over %d rounds: ckpt %.0f rec/s, flink rocksdb %.0f rec/s; ckpt/flink = %.2f", name, rounds(), ours, fl, ours/fl)
	}
	b.Logf("ckpt, %d keys × %d B vs a %d MiB cache: sync p99 %s; load average %.1f → %.1f",
		keys, valueBytes, state.DefaultCacheBytes>>20, p99(syncs), load0, loadAvg())
}
