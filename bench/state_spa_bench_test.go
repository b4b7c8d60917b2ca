package bench

// The state reader (snapshot/state) against Flink's State Processor API,
// side by side over the same canonical savepoint, written by real Flink
// (peers: ValuesJob, heap backend, parallelism 1, max parallelism 128): keys
// 0..n-1, each with a ValueState<Long> "v-long", a ValueState<String>
// "v-string" and a ValueState<POJO> "v-pojo" whose values depend on the key
// only, so both sides' results are checked, not only timed.
//
// The savepoint is made once and cached outside the tracked tree:
// $CKPT_BENCH_STATE_CACHE, else peers/work/state-bench/ (git-ignored;
// peers' pruning does not touch it). Its size is CKPT_BENCH_STATE_SP_MB
// (default 1024, the 1 GiB); CKPT_BENCH_SPA_FLINK picks the Flink
// line of both the writer and the SPA (2.3.0 default, or 1.20.5: that
// line's SPA is 1.20.0, the newest the registry serves).
//
// One run: go test ./bench -run '^$' -bench StateReadVsSPA -benchtime 1x -v
// (CKPT_BENCH_STATE_PREPARE_ONLY=1: only make and cache the savepoint).
// Rounds (CKPT_BENCH_ROUNDS, default 3) alternate the two sides: ckpt's
// full scan (GOMAXPROCS=1), the SPA's full scan (parallelism 1), ckpt's key
// lookup, the SPA's filtered scan for that key. Medians are reported, with
// every round's figures and the load average before and after each side.
// CKPT_BENCH_FLINK=off runs ckpt's side alone over a cached savepoint.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// valuesStringLen is every v-string value's length; valuesKeyBytes the
// canonical savepoint's bytes per key (three entries: i32 lengths, key-group
// prefix, key, VoidNamespace, values; measured on Flink 2.3's files).
const (
	valuesStringLen = 48
	valuesKeyBytes  = 148
)

// valuesSavepoint is a cached ValuesJob savepoint.
type valuesSavepoint struct {
	Path      string `json:"path"` // the savepoint directory (holds _metadata)
	Keys      int64  `json:"keys"`
	StringLen int    `json:"string_len"`
	Flink     string `json:"flink"`
	StateSize int64  `json:"state_size"` // bytes of its state files
}

func spaFlinkVersion() string {
	if v := os.Getenv("CKPT_BENCH_SPA_FLINK"); v != "" {
		return v
	}
	return peers.FlinkVersion2
}

func stateBenchCache() string {
	if d := os.Getenv("CKPT_BENCH_STATE_CACHE"); d != "" {
		return d
	}
	return filepath.Join(peers.WorkDir(), "state-bench")
}

// cachedValuesSavepoint is the savepoint flinkValuesSavepoint made earlier.
func cachedValuesSavepoint(version string, mb int64) (valuesSavepoint, bool) {
	var sp valuesSavepoint
	raw, err := os.ReadFile(filepath.Join(valuesRoot(version, mb), "savepoint.json"))
	if err != nil || json.Unmarshal(raw, &sp) != nil {
		return sp, false
	}
	_, err = os.Stat(filepath.Join(sp.Path, "_metadata"))
	return sp, err == nil
}

func valuesRoot(version string, mb int64) string {
	return filepath.Join(stateBenchCache(), fmt.Sprintf("values-%s-%dMiB-s%d", version, mb, valuesStringLen))
}

// flinkValuesSavepoint writes the savepoint of about mb MiB with real Flink: ValuesJob fills its RocksDB state, then stops
// with a canonical savepoint. An interrupted attempt leaves its directory
// behind (nothing here deletes); the next attempt uses a fresh one.
func flinkValuesSavepoint(b *testing.B, version string, mb int64) valuesSavepoint {
	root := valuesRoot(version, mb)
	index := filepath.Join(root, "savepoint.json")
	var sp valuesSavepoint
	attempt := filepath.Join(root, time.Now().UTC().Format("20060102T150405"))
	if err := os.MkdirAll(attempt, 0o755); err != nil {
		b.Fatal(err)
	}
	keys := mb << 20 / valuesKeyBytes
	b.Logf("writing a ~%d MiB canonical savepoint with Flink %s (%d keys) into %s", mb, version, keys, attempt)
	// The heap backend (its canonical savepoint is the same unified format
	// RocksDB's is): a GiB of state fills ten times faster than in RocksDB.
	opts := peers.FlinkOptions{Version: version, HeapMB: int(max(2048, mb*6))}
	p := peers.StartFlink(b, opts)
	job := peers.FlinkJob{Name: "values-bench", Backend: "hashmap", CheckpointInterval: -1,
		CheckpointDir: filepath.Join(attempt, "checkpoints"), SavepointDir: filepath.Join(attempt, "savepoints")}
	t0 := time.Now()
	run, err := p.SubmitValuesJob(job, peers.ValuesJobSpec{Keys: keys, StringLen: valuesStringLen,
		Done: filepath.Join(attempt, "done")})
	if err != nil {
		b.Fatal(err)
	}
	fill := time.Since(t0)
	t0 = time.Now()
	loc, err := run.StopWithSavepointWithin("", peers.SavepointCanonical, 30*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	sp = valuesSavepoint{Path: peers.LocalPath(loc), Keys: keys, StringLen: valuesStringLen, Flink: version}
	sp.StateSize = dirSize(sp.Path) - fileSize(filepath.Join(sp.Path, "_metadata"))
	b.Logf("Flink %s wrote %d keys in %s, the canonical savepoint (%d MiB of state) in %s: %s",
		version, keys, fill.Round(time.Millisecond), sp.StateSize>>20, time.Since(t0).Round(time.Millisecond), sp.Path)
	raw, _ := json.MarshalIndent(sp, "", "  ")
	if err := os.WriteFile(index+".tmp", raw, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(index+".tmp", index); err != nil {
		b.Fatal(err)
	}
	return sp
}

// warmPageCache reads every file of dir once.
func warmPageCache(b *testing.B, dir string) {
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(io.Discard, f)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// ckptSchema reads _metadata and every operator's state heads, as ckpt
// state PATH does.
func ckptSchema(b *testing.B, path string) (time.Duration, []state.OperatorSchema) {
	ctx, fsys := context.Background(), storage.NewLocal()
	t0 := time.Now()
	m, err := snapshot.Read(ctx, fsys, path)
	if err != nil {
		b.Fatal(err)
	}
	s := state.ReadSchema(ctx, fsys, m)
	return time.Since(t0), s
}

func valuesOperator(b *testing.B, m *snapshot.Metadata) *snapshot.OperatorState {
	for _, op := range m.Operators {
		if op.ID == snapshot.OperatorIDFromUID(peers.ValuesJobUID) {
			return op
		}
	}
	b.Fatalf("no operator %q in the savepoint", peers.ValuesJobUID)
	return nil
}

// ckptFullScan decodes every entry on one core (GOMAXPROCS=1: the
// garbage collector shares it too): _metadata, heads, every key group.
func ckptFullScan(b *testing.B, sp valuesSavepoint) (time.Duration, int64) {
	d, _, n := ckptFullScanCPU(b, sp)
	return d, n
}

// ckptFullScanCPU is ckptFullScan with the CPU time it took: on a shared
// machine the wall time says how busy the others were, the CPU time what
// the scan cost. It is the counting scan (ckpt state's entries and bytes
// per state, the TUI's counts): state.ScanKeyed, every value decoded.
func ckptFullScanCPU(b *testing.B, sp valuesSavepoint) (wall, cpu time.Duration, n int64) {
	wall, cpu, n, _ = ckptScanCPU(b, sp, "", true)
	return wall, cpu, n
}

// ckptScanCPU scans the values operator's state named name ("" = all),
// with state.ScanKeyed (scan) or state.ReadKeyed, on one core, and
// returns the entries and their bytes (Entry.Size).
func ckptScanCPU(b *testing.B, sp valuesSavepoint, name string, scan bool) (wall, cpu time.Duration, n, bytes int64) {
	ctx, fsys := context.Background(), storage.NewLocal()
	prev := goruntime.GOMAXPROCS(1)
	defer goruntime.GOMAXPROCS(prev)
	goruntime.GC()
	c0 := cpuTime()
	t0 := time.Now()
	m, err := snapshot.Read(ctx, fsys, sp.Path)
	if err != nil {
		b.Fatal(err)
	}
	op := valuesOperator(b, m)
	if scan {
		err = state.ScanKeyed(ctx, fsys, m, op, name, func(e *state.Entry) error {
			n++
			bytes += e.Size
			return nil
		})
	} else {
		err = state.ReadKeyed(ctx, fsys, m, op, name, func(e state.Entry) error {
			n++
			bytes += e.Size
			return nil
		})
	}
	wall, cpu = time.Since(t0), cpuTime()-c0
	if err != nil {
		b.Fatal(err)
	}
	return wall, cpu, n, bytes
}

// ckptLookup is ckpt state PATH --operator values --key K: _metadata, the
// key type from the head, the key's group's range only (state.ReadKey).
func ckptLookup(b *testing.B, sp valuesSavepoint, key int64) (time.Duration, []state.Entry) {
	ctx, fsys := context.Background(), storage.NewLocal()
	t0 := time.Now()
	m, err := snapshot.Read(ctx, fsys, sp.Path)
	if err != nil {
		b.Fatal(err)
	}
	op := valuesOperator(b, m)
	p, _, err := state.ReadKeyedSchema(ctx, fsys, m, op)
	if err != nil {
		b.Fatal(err)
	}
	k, err := state.ParseKey(p.Key, strconv.FormatInt(key, 10))
	if err != nil {
		b.Fatal(err)
	}
	var got []state.Entry
	err = state.ReadKey(ctx, fsys, m, op, "", k, func(e state.Entry) error {
		got = append(got, e)
		return nil
	})
	d := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	return d, got
}

// checkValues fails unless entries are exactly key's three values.
func checkValues(b *testing.B, key int64, entries []state.Entry) {
	want := peers.ValuesPojoOf(key)
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.State] = true
		ok := false
		switch e.State {
		case "v-long":
			ok = e.Value == peers.ValuesLong(key)
		case "v-string":
			ok = e.Value == peers.ValuesString(key, valuesStringLen)
		case "v-pojo":
			r, _ := e.Value.(*state.Record)
			f := map[string]any{}
			if r != nil {
				for _, x := range r.Fields {
					f[x.Name] = x.Value
				}
			}
			boxedOK := f["boxed"] == nil && want.Boxed == nil || want.Boxed != nil && f["boxed"] == *want.Boxed
			ok = r != nil && f["name"] == want.Name && f["count"] == want.Count && f["score"] == want.Score && boxedOK
		}
		if !ok {
			b.Fatalf("key %d, %s: read %#v", key, e.State, e.Value)
		}
	}
	if len(entries) != 3 || len(seen) != 3 {
		b.Fatalf("key %d: %d entries (%v), want v-long, v-string, v-pojo", key, len(entries), seen)
	}
}

func medianDur(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkStateReadVsSPA (issue 13, Speed): schema of the savepoint
// (target < 100 ms), full scan (≥ 200 MB/s on one core, ≥ 5× the SPA),
// one key's lookup (< 50 ms); the SPA has no schema listing and no key
// lookup: its filtered scan is what a user of it runs for one key.
func BenchmarkStateReadVsSPA(b *testing.B) {
	spaOff := flinkMissing() // ckpt's side alone over a cached savepoint
	mb := int64(1024)
	if v, err := strconv.ParseInt(os.Getenv("CKPT_BENCH_STATE_SP_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("CKPT_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	version := spaFlinkVersion()
	sp, cached := cachedValuesSavepoint(version, mb)
	if !cached {
		if spaOff != "" {
			peers.Unavailable(b, "writing the savepoint with Flink: %s", spaOff)
		}
		sp = flinkValuesSavepoint(b, version, mb)
	}
	b.Logf("savepoint %s: Flink %s, %d keys, %.1f MiB of state", sp.Path, sp.Flink, sp.Keys, float64(sp.StateSize)/(1<<20))
	if os.Getenv("CKPT_BENCH_STATE_PREPARE_ONLY") == "1" {
		return // the savepoint is made and cached; nothing is measured
	}
	heap := 6144 // a hashmap read holds the whole state on the heap
	if v, err := strconv.Atoi(os.Getenv("CKPT_BENCH_SPA_HEAP_MB")); err == nil && v > 0 {
		heap = v
	}
	backend := "hashmap"
	if v := os.Getenv("CKPT_BENCH_SPA_BACKEND"); v != "" {
		backend = v
	}
	var spa *peers.SPAReader
	if spaOff == "" {
		spa = peers.StartSPAReader(b, version, heap)
	} else {
		b.Logf("SKIPPING the State Processor API side: %s", spaOff)
	}
	key := sp.Keys / 3 // any key; its group is as large as any other
	// CKPT_BENCH_SPA_FILTERED=off leaves out the SPA's filtered scan (as
	// long as its full scan) when time is short.
	spaFiltered := os.Getenv("CKPT_BENCH_SPA_FILTERED") != "off"
	b.ResetTimer()

	// The page cache holds the files for both sides alike: one untimed read first.
	warmPageCache(b, sp.Path)

	// Schema: many runs, ckpt only (the SPA has no schema listing).
	var schema []time.Duration
	for range 9 {
		d, s := ckptSchema(b, sp.Path)
		if len(s) == 0 {
			b.Fatal("no operators")
		}
		for _, o := range s {
			if o.UID != peers.ValuesJobUID {
				continue
			}
			// The three value states; RocksDB adds its timer queues.
			found := 0
			for _, st := range o.Keyed.States {
				if st.Name == "v-long" || st.Name == "v-string" || st.Name == "v-pojo" {
					found++
				}
			}
			if found != 3 || len(o.Errors) > 0 {
				b.Fatalf("schema of %s: %d of its value states, errors %v", o.UID, found, o.Errors)
			}
		}
		schema = append(schema, d)
	}

	var scan, spaScan, look, spaLook, scanCPU, spaScanCPU []time.Duration
	var spaNet []int64
	timeout := 30 * time.Minute
	for r := range rounds {
		l0 := loadAvg()
		d, dc, n := ckptFullScanCPU(b, sp)
		if n != 3*sp.Keys {
			b.Fatalf("ckpt scan: %d entries, want %d", n, 3*sp.Keys)
		}
		scan, scanCPU = append(scan, d), append(scanCPU, dc)
		l1 := loadAvg()
		if spa == nil {
			dl, got := ckptLookup(b, sp, key)
			checkValues(b, key, got)
			look = append(look, dl)
			b.Logf("round %d: ckpt scan %.0f ms (%.0f MB/s), CPU %.0f ms (%.0f MB per CPU-s) | ckpt lookup %.1f ms | load %.2f → %.2f → %.2f",
				r+1, ms(d), float64(sp.StateSize)/1e6/d.Seconds(), ms(dc), float64(sp.StateSize)/1e6/dc.Seconds(), ms(dl), l0, l1, loadAvg())
			continue
		}
		c0 := spa.CPUTime()
		res, err := spa.ReadKeyed(peers.SPARead{Path: sp.Path, UID: peers.ValuesJobUID, Backend: backend, Parallelism: 1,
			TmpDir: b.TempDir()}, timeout)
		spaScanCPU = append(spaScanCPU, spa.CPUTime()-c0)
		if err != nil {
			b.Fatal(err)
		}
		// Both sides read every key: the SPA's entries are ckpt's (Flink
		// 1.20's SPA visits 1 key of 28,339 here: such a run is no comparison).
		if res.Entries != n || res.Keys != sp.Keys {
			b.Fatalf("SPA scan: %d keys, %d entries; ckpt read %d entries of %d keys", res.Keys, res.Entries, n, sp.Keys)
		}
		spaScan = append(spaScan, res.Wall())
		spaNet = append(spaNet, res.NetRuntimeMs)
		l2 := loadAvg()
		dl, got := ckptLookup(b, sp, key)
		checkValues(b, key, got)
		look = append(look, dl)
		if !spaFiltered {
			b.Logf("round %d: ckpt scan %.0f ms (%.0f MB/s, CPU %.0f ms) | SPA scan %.0f ms (net %d ms, JVM CPU %.0f ms) | ckpt lookup %.1f ms | load %.2f → %.2f → %.2f → %.2f",
				r+1, ms(d), float64(sp.StateSize)/1e6/d.Seconds(), ms(dc), ms(res.Wall()), res.NetRuntimeMs, ms(spaScanCPU[len(spaScanCPU)-1]), ms(dl), l0, l1, l2, loadAvg())
			continue
		}
		k := key
		resK, err := spa.ReadKeyed(peers.SPARead{Path: sp.Path, UID: peers.ValuesJobUID, Backend: backend, Parallelism: 1,
			Key: &k, TmpDir: b.TempDir()}, timeout)
		if err != nil {
			b.Fatal(err)
		}
		if resK.Entries != 3 || resK.Keys != sp.Keys {
			b.Fatalf("SPA filtered scan: %d keys visited, %d entries, want %d, 3", resK.Keys, resK.Entries, sp.Keys)
		}
		spaLook = append(spaLook, resK.Wall())
		b.Logf("round %d: ckpt scan %.0f ms (%.0f MB/s, CPU %.0f ms) | SPA scan %.0f ms (net %d ms, JVM CPU %.0f ms) | ckpt lookup %.1f ms | SPA filtered scan %.0f ms | load %.2f → %.2f → %.2f → %.2f",
			r+1, ms(d), float64(sp.StateSize)/1e6/d.Seconds(), ms(dc), ms(res.Wall()), res.NetRuntimeMs, ms(spaScanCPU[len(spaScanCPU)-1]), ms(dl), ms(resK.Wall()), l0, l1, l2, loadAvg())
	}
	mScan, mLook, mCPU := medianDur(scan), medianDur(look), medianDur(scanCPU)
	mbps := float64(sp.StateSize) / 1e6 / mScan.Seconds()
	b.ReportMetric(float64(sp.StateSize)/1e6/mCPU.Seconds(), "ckpt-scan-MB/cpu-s")
	b.ReportMetric(ms(medianDur(schema)), "schema-ms")
	b.ReportMetric(mbps, "ckpt-scan-MB/s")
	b.ReportMetric(ms(mLook), "ckpt-lookup-ms")
	if spa == nil {
		b.Logf("ckpt alone (GOMAXPROCS=1 for the scan), %d rounds, medians: schema %.2f ms (target < 100 ms) | full scan %.0f ms = %.0f MB/s (target ≥ 200), CPU %.0f ms = %.0f MB per CPU-second | key lookup %.1f ms (target < 50 ms) | load average now %.2f",
			rounds, ms(medianDur(schema)), ms(mScan), mbps, ms(mCPU), float64(sp.StateSize)/1e6/mCPU.Seconds(), ms(mLook), loadAvg())
		return
	}
	mSPA := medianDur(spaScan)
	b.ReportMetric(float64(sp.StateSize)/1e6/mSPA.Seconds(), "spa-scan-MB/s")
	b.ReportMetric(mSPA.Seconds()/mScan.Seconds(), "scan-speedup")
	b.Logf("Flink %s SPA (%s backend, parallelism 1, %d MiB heap) vs ckpt (GOMAXPROCS=1 for the scan), %d rounds, medians:", version, backend, heap, rounds)
	b.Logf("  schema:      ckpt %.2f ms (target < 100 ms); the SPA has no schema listing", ms(medianDur(schema)))
	b.Logf("  full scan:   ckpt %.0f ms = %.0f MB/s (target ≥ 200) | SPA %.0f ms = %.0f MB/s | ratio %.1f× (target ≥ 5×)",
		ms(mScan), mbps, ms(mSPA), float64(sp.StateSize)/1e6/mSPA.Seconds(), mSPA.Seconds()/mScan.Seconds())
	mSPACPU := medianDur(spaScanCPU)
	b.ReportMetric(mSPACPU.Seconds()/mCPU.Seconds(), "scan-cpu-ratio")
	b.Logf("  full scan CPU: ckpt %.0f ms = %.0f MB per CPU-second | SPA JVM %.0f ms (every thread) | ratio %.1f×",
		ms(mCPU), float64(sp.StateSize)/1e6/mCPU.Seconds(), ms(mSPACPU), mSPACPU.Seconds()/mCPU.Seconds())
	if len(spaLook) > 0 {
		mSPALook := medianDur(spaLook)
		b.ReportMetric(ms(mSPALook), "spa-filtered-scan-ms")
		b.ReportMetric(mSPALook.Seconds()/mLook.Seconds(), "lookup-speedup")
		b.Logf("  key lookup:  ckpt %.1f ms (target < 50 ms) | SPA filtered scan %.0f ms (no key lookup in the SPA) | ratio %.0f×",
			ms(mLook), ms(mSPALook), mSPALook.Seconds()/mLook.Seconds())
	} else {
		b.Logf("  key lookup:  ckpt %.1f ms (target < 50 ms) | SPA filtered scan left out (CKPT_BENCH_SPA_FILTERED=off)", ms(mLook))
	}
	b.Logf("  SPA net job runtimes (ms): %v; load average now %.2f", spaNet, loadAvg())
}
