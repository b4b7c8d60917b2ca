package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
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

// envInt is the positive integer in environment variable name, or dflt.
func envInt(name string, dflt int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return dflt
}

// beyondCache is the shape of BenchmarkStateBeyondCacheVsFlink:
// CKPT_BENCH_VALUE_BYTES (default 1024) per key, CKPT_BENCH_CACHE_MB
// (default: the state package's 256 MiB value cache per subtask; Flink's
// RocksDB gets the same as managed memory per slot),
// CKPT_BENCH_STATE_X — the state as a multiple of the cache (keys =
// multiple × cache / value bytes; unset: CKPT_BENCH_PAYLOAD_KEYS keys) —
// and CKPT_BENCH_KEY_DIST: seq (default: round-robin, every key in turn),
// uniform (random keys) or zipf (Zipf's law, exponent 1), drawn by the same
// function on both sides (keyOf; ModKey in the Flink peer).
type beyondCache struct {
	valueBytes int
	cacheMB    int64
	keys       int64
	dist       string
}

func beyondCacheShape(b *testing.B) beyondCache {
	c := beyondCache{valueBytes: int(envInt("CKPT_BENCH_VALUE_BYTES", valueBytes)),
		cacheMB: envInt("CKPT_BENCH_CACHE_MB", state.DefaultCacheBytes>>20), keys: payloadKeys(),
		dist: os.Getenv("CKPT_BENCH_KEY_DIST")}
	if c.valueBytes < 8 {
		b.Fatalf("CKPT_BENCH_VALUE_BYTES=%d: at least 8", c.valueBytes)
	}
	if x := envInt("CKPT_BENCH_STATE_X", 0); x > 0 {
		c.keys = x * c.cacheMB << 20 / int64(c.valueBytes)
	}
	switch c.dist {
	case "", "seq":
		c.dist = "seq"
	case "uniform", "zipf":
	default:
		b.Fatalf("CKPT_BENCH_KEY_DIST=%q: want seq, uniform or zipf", c.dist)
	}
	return c
}

// mix is SplitMix64's finalizer (ModKey.mix in the Flink peer).
func mix(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// keyOf is the key index record n draws among keys (ModKey in the Flink
// peer): seq n mod keys; uniform a hash of n mod keys; zipf ⌊keys^u⌋−1 for
// u uniform in [0,1): key k with probability ~1/((k+1)·ln keys).
func keyOf(dist string, n uint64, keys int64) int64 {
	switch dist {
	case "uniform":
		return int64(mix(n) % uint64(keys))
	case "zipf":
		u := float64(mix(n)>>11) * 0x1p-53
		k := int64(math.Floor(math.Exp(u*math.Log(float64(keys))))) - 1
		return max(0, min(keys-1, k))
	}
	return int64(n % uint64(keys))
}

// drawnKeys is the generator with keys drawn by keyOf (record n's event
// time is n, the generator's default time step).
type drawnKeys struct {
	builtin.Generator
	dist  string
	names []string
	out   drawnOut
}

type drawnOut struct {
	d    *drawnKeys
	next operator.Collector
}

func (o *drawnOut) Collect(r operator.Record) {
	r.Key = o.d.names[keyOf(o.d.dist, uint64(r.Time), int64(len(o.d.names)))]
	o.next.Collect(r)
}

func (d *drawnKeys) Open(ctx *operator.Context) error {
	d.names = make([]string, d.Keys)
	for i := range d.names {
		d.names[i] = "key-" + strconv.Itoa(i)
	}
	d.out.d = d
	return d.Generator.Open(ctx)
}

func (d *drawnKeys) Emit(out operator.Collector, max int) (bool, error) {
	d.out.next = out
	return d.Generator.Emit(&d.out, max)
}

// payload is ckpt's twin of the Flink peer's payload operator.
type payload struct {
	operator.Base
	s          *state.ValueState[[]byte]
	n          uint64
	valueBytes int
}

// lastPayloadBackend is the keyed state of the payload operator opened
// last, so a benchmark can print Pebble's metrics before the job ends.
var lastPayloadBackend atomic.Pointer[state.Backend]

func (p *payload) Open(ctx *operator.Context) error {
	var err error
	p.s, err = state.Value(ctx.Keyed, "payload", state.Bytes{})
	if p.valueBytes == 0 {
		p.valueBytes = valueBytes
	}
	lastPayloadBackend.Store(ctx.Keyed)
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
	next := make([]byte, p.valueBytes)
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
	return payloadJobOf(beyondCache{valueBytes: valueBytes, keys: keys, dist: "seq"})
}

func payloadJobOf(c beyondCache) *graph.Graph {
	g := graph.New("payload-bench")
	src := func() operator.Source { return &builtin.Generator{Keys: c.keys} }
	if c.dist != "seq" {
		src = func() operator.Source { return &drawnKeys{Generator: builtin.Generator{Keys: c.keys}, dist: c.dist} }
	}
	g.Source("generator", src).UID("gen-source").
		KeyBy().Process("payload", func() operator.Operator { return &payload{valueBytes: c.valueBytes} }).UID("payload").
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

// BenchmarkStateBeyondCacheVsFlink: keyed value state larger than ckpt's
// value cache (by default 1M keys × 1 KiB against the default 256 MiB per
// value state: 4×), so most state lives in Pebble; next to Flink on
// RocksDB with the same operator and the same memory for state (managed
// memory per slot = ckpt's cache). Shape: beyondCache (value bytes, cache,
// state multiple, key distribution). Both at parallelism 1, without
// checkpoints and with checkpoints every second (Flink: incremental).
// The four measurements alternate CKPT_BENCH_ROUNDS times (default 3) —
// ckpt, Flink, ckpt, Flink — and medians are compared, so a burst of load
// from elsewhere does not decide the ratio. CKPT_BENCH_MODES=no-ckpt or
// ckpt-1s runs one of the two. CKPT_BENCH_PEBBLE=1 prints Pebble's
// metrics at the end of each of ckpt's windows.
func BenchmarkStateBeyondCacheVsFlink(b *testing.B) {
	shape := beyondCacheShape(b)
	keys := shape.keys
	load0 := loadAvg()
	var p *peers.FlinkPeer
	if why := flinkMissing(); why != "" {
		b.Logf("SKIPPING the Flink side: %s", why)
	} else {
		o := flinkPayloadOptions()
		o.Config["taskmanager.memory.managed.size"] = fmt.Sprintf("%dm", 8*shape.cacheMB)
		o.HeapMB = max(o.HeapMB, int(8*shape.cacheMB)+1024)
		p = peers.StartFlink(b, o)
	}
	b.Logf("shape: %d keys × %d B (%d MiB of values) vs a %d MiB cache (%.1f×), keys %s",
		keys, shape.valueBytes, keys*int64(shape.valueBytes)>>20, shape.cacheMB,
		float64(keys*int64(shape.valueBytes))/float64(shape.cacheMB<<20), shape.dist)
	// Flink's warm-up must touch every key once too (at its pace on this
	// machine, ~25 µs per record with RocksDB and 1 KiB values).
	warmup := time.Duration(keys) * 25 * time.Microsecond
	type series struct{ ckpt, flink []float64 }
	res := map[string]*series{"no-ckpt": {}, "ckpt-1s": {}}
	var syncs []time.Duration
	modes := []struct {
		name     string
		interval time.Duration
	}{{"no-ckpt", 0}, {"ckpt-1s", time.Second}}
	if m := os.Getenv("CKPT_BENCH_MODES"); m != "" {
		modes = slices.DeleteFunc(modes, func(x struct {
			name     string
			interval time.Duration
		}) bool {
			return !strings.Contains(m, x.name)
		})
	}
	eopts := engine.Options{CacheBytes: shape.cacheMB << 20}
	flinkJob := func(name string) peers.FlinkJob {
		job := flinkPayloadJob(name, keys, 1)
		if shape.dist != "seq" {
			job.KeyDist = shape.dist
		}
		job.Operators[1].ValueBytes = shape.valueBytes
		return job
	}
	if p != nil {
		// A fresh cluster's first job runs cold (JVM, RocksDB): in the runs
		// without this, Flink's first round was its slowest by 3–10×.
		ft, err := p.Throughput(flinkJob("beyond-cache-warm-up"), warmup, 2*time.Second)
		if err != nil {
			b.Fatalf("flink warm-up: %v", err)
		}
		b.Logf("flink warm-up job (not counted): %.0f rec/s; load average %.1f", ft.RecordsPerSecond, loadAvg())
	}
	for r := 0; r < rounds(); r++ {
		for _, tc := range modes {
			var atEnd func()
			if os.Getenv("CKPT_BENCH_PEBBLE") != "" {
				atEnd = func() { logPebble(b, tc.name) }
			}
			ours := measureJobWith(b, payloadJobOf(shape), keys, tc.interval, eopts, atEnd)
			syncs = append(syncs, ours.syncs...)
			res[tc.name].ckpt = append(res[tc.name].ckpt, ours.recPerSec)
			b.Logf("round %d %s: ckpt %.0f rec/s (%d checkpoints, CPU %s per 1M records); load average %.1f",
				r+1, tc.name, ours.recPerSec, ours.completed, ours.cpuPerMRec.Round(time.Millisecond), loadAvg())
			if p == nil {
				continue
			}
			job := flinkJob(fmt.Sprintf("beyond-cache-%s-%d", tc.name, r))
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
	for _, tc := range modes {
		name := tc.name
		s := res[name]
		ours := median(s.ckpt)
		b.ReportMetric(ours, "ckpt-"+name+"-rec/s")
		if p == nil {
			b.Logf("%s: ckpt median %.0f rec/s %v", name, ours, s.ckpt)
			continue
		}
		fl := median(s.flink)
		b.ReportMetric(fl, "flink-rocksdb-"+name+"-rec/s")
		b.ReportMetric(ours/fl, "ratio-"+name)
		b.Logf("%s, medians over %d rounds: ckpt %.0f rec/s %v, flink rocksdb %.0f rec/s %v; ckpt/flink = %.2f",
			name, rounds(), ours, s.ckpt, fl, s.flink, ours/fl)
	}
	b.Logf("ckpt, %d keys × %d B vs a %d MiB cache: sync p99 %s; load average %.1f → %.1f",
		keys, shape.valueBytes, shape.cacheMB, p99(syncs), load0, loadAvg())
	rss := fmt.Sprintf("peak RSS: ckpt's benchmark process %d MiB", peakRSS("self")>>20)
	if p != nil {
		rss += fmt.Sprintf(", Flink's JVM %d MiB", peakRSS(strconv.Itoa(p.PID()))>>20)
	}
	b.Log(rss)
}

// peakRSS is the VmHWM of process pid ("self": this one), in bytes.
func peakRSS(pid string) int64 {
	raw, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// logPebble prints Pebble's metrics of the payload operator's state.
func logPebble(b *testing.B, what string) {
	sb := lastPayloadBackend.Load()
	if sb == nil {
		return
	}
	m := sb.DB().Metrics()
	hit := 0.0
	if t := m.BlockCache.Hits + m.BlockCache.Misses; t > 0 {
		hit = float64(m.BlockCache.Hits) / float64(t)
	}
	tot := m.Total()
	b.Logf("pebble (%s): read amp %d, L0 tables %d, block cache hit rate %.1f%% (%d MiB), compaction debt %d MiB, compactions %d, ingested %d MiB, compacted %d MiB written (write amp %.1f)\n%s",
		what, m.ReadAmp(), m.Levels[0].TablesCount, 100*hit, m.BlockCache.Size>>20, m.Compact.EstimatedDebt>>20,
		m.Compact.Count, int64(tot.TableBytesIngested)>>20, int64(tot.TableBytesCompacted)>>20, tot.WriteAmp(), m.String())
}
