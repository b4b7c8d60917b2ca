package bench

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkStateScanCached: ckpt's full scan alone (GOMAXPROCS=1) over the
// savepoint BenchmarkStateReadVsSPA cached (CKPT_BENCH_STATE_SP_MB, default
// 1024), for profiling and A/B runs of the reader:
// go test ./bench -run '^$' -bench StateScanCached -benchtime 5x -cpuprofile cpu.prof
func BenchmarkStateScanCached(b *testing.B) {
	mb := int64(1024)
	if v, err := strconv.ParseInt(os.Getenv("CKPT_BENCH_STATE_SP_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	sp, ok := cachedValuesSavepoint(spaFlinkVersion(), mb)
	if !ok {
		b.Skipf("no cached %d MiB savepoint: run BenchmarkStateReadVsSPA with CKPT_BENCH_STATE_PREPARE_ONLY=1 first", mb)
	}
	b.SetBytes(sp.StateSize)
	var cpu time.Duration
	for b.Loop() {
		_, c, n := ckptFullScanCPU(b, sp)
		if n != 3*sp.Keys {
			b.Fatalf("%d entries, want %d", n, 3*sp.Keys)
		}
		cpu += c
	}
	// The CPU time is what the scan cost; the wall time says as much about
	// the others on a shared machine.
	b.ReportMetric(float64(sp.StateSize)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
}

// BenchmarkStateLookupCached: ckpt state --key over the same cached
// savepoint (one key group's range read, only that key's entries decoded).
func BenchmarkStateLookupCached(b *testing.B) {
	mb := int64(1024)
	if v, err := strconv.ParseInt(os.Getenv("CKPT_BENCH_STATE_SP_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	sp, ok := cachedValuesSavepoint(spaFlinkVersion(), mb)
	if !ok {
		b.Skipf("no cached %d MiB savepoint: run BenchmarkStateReadVsSPA with CKPT_BENCH_STATE_PREPARE_ONLY=1 first", mb)
	}
	key := sp.Keys / 3
	for b.Loop() {
		_, got := ckptLookup(b, sp, key)
		checkValues(b, key, got)
	}
}
