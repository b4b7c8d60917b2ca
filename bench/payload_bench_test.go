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
func BenchmarkStateBeyondCacheVsFlink(b *testing.B) {
	keys := payloadKeys()
	load0 := loadAvg()
	off := measureJob(b, payloadJob(keys), keys, 0)
	on := measureJob(b, payloadJob(keys), keys, time.Second)
	b.Logf("ckpt measured; load average %.1f", loadAvg())
	b.ReportMetric(off.recPerSec, "ckpt-rec/s")
	b.ReportMetric(on.recPerSec, "ckpt-ckpt-1s-rec/s")
	b.Logf("ckpt, %d keys × %d B vs a %d MiB cache: %.0f rec/s without checkpoints, %.0f rec/s with 1 s checkpoints (%d completed, sync p99 %s); load average %.1f",
		keys, valueBytes, state.DefaultCacheBytes>>20, off.recPerSec, on.recPerSec, on.completed, p99(on.syncs), load0)
	if why := flinkMissing(); why != "" {
		b.Logf("SKIPPING the Flink side: %s", why)
		return
	}
	p := peers.StartFlink(b, flinkPayloadOptions())
	// Flink's warm-up must touch every key once too (at its pace on this
	// machine, ~25 µs per record with RocksDB and 1 KiB values).
	warmup := time.Duration(keys) * 25 * time.Microsecond
	for _, tc := range []struct {
		name     string
		interval time.Duration
		ours     float64
	}{{"no-ckpt", -1, off.recPerSec}, {"ckpt-1s", time.Second, on.recPerSec}} {
		job := flinkPayloadJob("beyond-cache-"+tc.name, keys, 1)
		if tc.interval > 0 {
			job.CheckpointInterval, job.Incremental = tc.interval, true
		}
		ft, err := p.Throughput(job, warmup, window())
		if err != nil {
			b.Fatalf("flink %s: %v", tc.name, err)
		}
		b.ReportMetric(ft.RecordsPerSecond, "flink-rocksdb-"+tc.name+"-rec/s")
		b.ReportMetric(tc.ours/ft.RecordsPerSecond, "ratio-"+tc.name)
		b.Logf("flink rocksdb %s: %.0f rec/s; ckpt/flink = %.2f; load average %.1f", tc.name, ft.RecordsPerSecond, tc.ours/ft.RecordsPerSecond, loadAvg())
	}
	b.Logf("load average at the end %.1f", loadAvg())
}
