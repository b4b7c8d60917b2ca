package bench

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// cachedScanSavepoint is the savepoint BenchmarkStateReadVsSPA cached
// (CKPT_BENCH_STATE_SP_MB, default 1024), or a skip.
func cachedScanSavepoint(b *testing.B) valuesSavepoint {
	mb := int64(1024)
	if v, err := strconv.ParseInt(os.Getenv("CKPT_BENCH_STATE_SP_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	sp, ok := cachedValuesSavepoint(spaFlinkVersion(), mb)
	if !ok {
		b.Skipf("no cached %d MiB savepoint: run BenchmarkStateReadVsSPA with CKPT_BENCH_STATE_PREPARE_ONLY=1 first", mb)
	}
	return sp
}

// BenchmarkStateScanCached: ckpt's full scan alone (GOMAXPROCS=1) over the
// savepoint BenchmarkStateReadVsSPA cached, for profiling and A/B runs of
// the reader: the counting scan (state.ScanKeyed) of every state, then of
// each value state alone (v-long, v-string, v-pojo: the other states'
// entries are skipped undecoded), and ReadKeyed (values a caller may keep)
// of every state. MB/cpu-s is the bytes of the entries read (Entry.Size;
// for every state, the state file's size) per CPU-second of this process:
// go test ./bench -run '^$' -bench StateScanCached -benchtime 3x -cpuprofile cpu.prof
func BenchmarkStateScanCached(b *testing.B) {
	sp := cachedScanSavepoint(b)
	for _, c := range []struct {
		name, state string
		scan        bool
		entries     int64
	}{
		{"scan", "", true, 3 * sp.Keys},
		{"scan-v-long", "v-long", true, sp.Keys},
		{"scan-v-string", "v-string", true, sp.Keys},
		{"scan-v-pojo", "v-pojo", true, sp.Keys},
		{"readkeyed", "", false, 3 * sp.Keys},
	} {
		b.Run(c.name, func(b *testing.B) {
			var cpu time.Duration
			var bytes int64
			for b.Loop() {
				_, c1, n, size := ckptScanCPU(b, sp, c.state, c.scan)
				if n != c.entries {
					b.Fatalf("%d entries, want %d", n, c.entries)
				}
				if c.state == "" {
					size = sp.StateSize
				}
				cpu += c1
				bytes += size
			}
			b.SetBytes(bytes / int64(b.N))
			// The CPU time is what the scan cost; the wall time says as
			// much about the others on a shared machine.
			b.ReportMetric(float64(bytes)/1e6/cpu.Seconds(), "MB/cpu-s")
		})
	}
}

// BenchmarkStateLookupCached: ckpt state --key over the same cached
// savepoint (one key group's range read, only that key's entries decoded).
func BenchmarkStateLookupCached(b *testing.B) {
	sp := cachedScanSavepoint(b)
	key := sp.Keys / 3
	for b.Loop() {
		_, got := ckptLookup(b, sp, key)
		checkValues(b, key, got)
	}
}
