package snapshot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// largeSynthetic is a checkpoint shaped like a big RocksDB job on HDFS:
// ops operators × subtasks subtasks, each subtask an incremental handle with
// sharedFiles SSTs in <job>/shared/ (absolute hdfs:// paths), a meta stream
// and 3 private files in chk-N/ (relative), plus source offsets as operator
// state on the first operator. Written as format V6, as Flink 2.3 would.
func largeSynthetic(ops, subtasks, sharedFiles int) *Metadata {
	const job = "hdfs://namenode.example.com:8020/flink/checkpoints/a1b2c3d4e5f60718293a4b5c6d7e8f90"
	m := &Metadata{Version: VersionWrite, CheckpointID: 1234}
	m.SetProperties(CheckpointProperties())
	uuid := func(a, b, c int) string {
		return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a*7919+b, c, b%4096, a%4096, a*1_000_003+b*1009+c)
	}
	for o := 0; o < ops; o++ {
		uid := fmt.Sprintf("operator-%03d", o)
		op := NewOperatorState(uid, "Keyed Process "+uid, int32(subtasks), 4096)
		for s := 0; s < subtasks; s++ {
			st := &SubtaskState{Index: int32(s)}
			shared := make([]NamedHandle, sharedFiles)
			for f := range shared {
				shared[f] = NamedHandle{LocalName: fmt.Sprintf("%06d.sst", 10+f*3),
					Handle: NewFileHandle(job+"/shared/"+uuid(o, s, f), int64(64<<20+f*4096+s))}
			}
			private := []NamedHandle{
				{"MANIFEST-000004", NewRelativeFileHandle(uuid(o, s, 1000), 4203)},
				{"OPTIONS-000009", NewRelativeFileHandle(uuid(o, s, 1001), 7302)},
				{"CURRENT", &ByteStreamHandle{Name: job + "/chk-1234/" + uuid(o, s, 1002), Data: []byte("MANIFEST-000004\n")}},
			}
			st.ManagedKeyedState = NewIncrementalHandle(1234, uuid(o, s, 2000), KeyGroupRangeFor(4096, int32(subtasks), int32(s)),
				int64(3<<20+s), NewRelativeFileHandle(uuid(o, s, 1003), 1417), shared, private, uuid(o, s, 3000))
			if o == 0 {
				st.ManagedOperatorState = NewOperatorStreamHandle(&ByteStreamHandle{Name: "offsets", Data: make([]byte, 64)},
					NamedOperatorState{Name: "SourceReaderState", Mode: SplitDistribute, Offsets: []int64{0, 32}})
			}
			op.Subtasks = append(op.Subtasks, st)
		}
		m.Operators = append(m.Operators, op)
	}
	return m
}

var (
	largeOnce sync.Once
	largePath string
	largeSize int64
	largeErr  error
)

// largeFile writes the synthetic checkpoint once per test process into
// chk-1234/_metadata under a temporary directory.
func largeFile(tb testing.TB) (string, int64) {
	largeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ckpt-bench-")
		if err != nil {
			largeErr = err
			return
		}
		chk := filepath.Join(dir, "chk-1234")
		os.MkdirAll(chk, 0o755)
		largePath = filepath.Join(chk, MetadataFileName)
		if largeErr = Write(context.Background(), storage.NewLocal(), largePath, largeSynthetic(200, 256, 14)); largeErr != nil {
			return
		}
		fi, err := os.Stat(largePath)
		largeErr, largeSize = err, fi.Size()
	})
	if largeErr != nil {
		tb.Fatal(largeErr)
	}
	return largePath, largeSize
}

// peakHeap samples the heap's object bytes while fn runs and returns the
// largest increase over the level before fn started.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	close(stop)
	<-done
	if peak.Load() < base {
		return 0
	}
	return peak.Load() - base
}

// BenchmarkDecodeLarge decodes a ≥100 MB synthetic `_metadata` from disk
// (the way `ckpt inspect` reads it) and reports MB/s, allocations and the
// peak heap the decode needed relative to the file size (target ≤ 2×).
func BenchmarkDecodeLarge(b *testing.B) {
	path, size := largeFile(b)
	if size < 100<<20 {
		b.Fatalf("synthetic file is %d bytes, want ≥ 100 MB", size)
	}
	ctx := context.Background()
	fsys := storage.NewLocal()
	var peak uint64
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var m *Metadata
		var err error
		p := peakHeap(func() { m, err = Read(ctx, fsys, path) })
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Operators) != 200 || len(m.Operators[199].Subtasks) != 256 {
			b.Fatalf("decoded %d operators", len(m.Operators))
		}
		peak = max(peak, p)
		runtime.KeepAlive(m)
	}
	b.StopTimer()
	b.ReportMetric(float64(size)/(1<<20), "file-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peak)/float64(size), "peak/file")
}

// BenchmarkDecodeLargeVsFlink decodes the same file with ckpt and with real
// Flink's own loader (Checkpoints.loadCheckpointMetadata in a JVM, best of
// 5 after JIT warm-up) and reports both and their ratio. Skips loudly
// without Java.
func BenchmarkDecodeLargeVsFlink(b *testing.B) {
	path, size := largeFile(b)
	ctx := context.Background()
	fsys := storage.NewLocal()
	best := time.Duration(1<<63 - 1)
	b.SetBytes(size)
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := Read(ctx, fsys, path); err != nil {
			b.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	b.StopTimer()
	fm, err := peers.FlinkLoadMetadata(b, peers.FlinkVersion2, filepath.Dir(path), 5)
	if err != nil {
		b.Fatalf("Flink's loader: %v", err)
	}
	if len(fm.Operators) != 200 {
		b.Fatalf("Flink loaded %d operators", len(fm.Operators))
	}
	flink := time.Duration(fm.BestNanos)
	b.ReportMetric(best.Seconds()*1000, "ckpt-ms")
	b.ReportMetric(flink.Seconds()*1000, "flink-ms")
	b.ReportMetric(flink.Seconds()/best.Seconds(), "flink/ckpt")
}
