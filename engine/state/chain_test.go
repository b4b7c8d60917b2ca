package state

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// uploadPrefetches plays the uploader's part for base images waiting in
// the background: they count as uploaded at once.
func uploadPrefetches(files []File) []File {
	var out []File
	for _, f := range files {
		if f.Prefetch == nil {
			out = append(out, f)
		} else if f.Prefetch.Start() {
			f.Prefetch.Finish(nil, nil)
		}
	}
	return out
}

// A model-checked run: random writes, reads and deletes of values and
// list entries through small caches (evictions, spills), snapshots at
// random points (some declined: their changes must still reach the next
// one) and short chains (base images materialized and switched to). Every
// written snapshot, copied away and opened, holds exactly the state at its
// barrier.
func TestChainSnapshotsMatchModel(t *testing.T) {
	tests := []struct {
		name                string
		cacheEntries        int
		cacheBytes          int64
		chainDeltas         int
		chainBytes          int64
		prefetchesCompleted bool
		m                   modelRun
	}{
		{"big cache, long chain", 0, 0, 0, 0, true, modelRun{}},
		{"tiny cache, short chain", 7, 0, 3, 1 << 10, true, modelRun{}},
		{"byte budget, switch on upload", 0, 16 << 10, 4, 4 << 10, true, modelRun{}},
		{"byte budget, nobody uploads", 0, 16 << 10, 2, 1 << 10, false, modelRun{}},
		// Value state only, and sweeps that rewrite every live key: deltas
		// stay out of Pebble and whole-state deltas rebase the chain.
		{"values only, sweeps, big cache", 0, 0, 0, 0, true, modelRun{valuesOnly: true, sweeps: true, wantRebases: true}},
		// The same until the cache overflows: deferred deltas are ingested
		// when the first entries must go.
		{"values only, sweeps, cache fills up", 200, 0, 3, 1 << 10, true, modelRun{valuesOnly: true, sweeps: true, wantRebases: true}},
		{"values only, sweeps, declines", 0, 0, 3, 1 << 10, false, modelRun{valuesOnly: true, sweeps: true, declines: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			if m == (modelRun{}) {
				m.declines = true
			}
			for seed := int64(1); seed <= 2; seed++ {
				runChainModel(t, seed, Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127},
					CacheEntries: tt.cacheEntries, CacheBytes: tt.cacheBytes, ChainDeltas: tt.chainDeltas, ChainBytes: tt.chainBytes},
					tt.prefetchesCompleted, m)
			}
		})
	}
}

// modelRun shapes the operations of runChainModel.
type modelRun struct {
	valuesOnly  bool // no list state
	sweeps      bool // now and then rewrite (or delete) every key of the model
	declines    bool // some snapshots are abandoned
	wantRebases bool
}

func runChainModel(t *testing.T, seed int64, opts Options, uploads bool, m modelRun) {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	tmp := t.TempDir()
	b, err := Open(filepath.Join(tmp, "db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	vals, _ := Value(b, "v", Bytes{})
	lists, _ := List(b, "l")
	model := map[string][]byte{}
	lmodel := map[string]int{}
	type snap struct {
		dir   string
		model map[string][]byte
		lists map[string]int
	}
	var snaps []snap
	const keys = 300
	for op := 0; op < 3000; op++ {
		k := fmt.Sprintf("k%d", rnd.Intn(keys))
		if m.sweeps && rnd.Intn(150) == 0 {
			// Every key of the model changes (a few are deleted).
			for k := range model {
				if rnd.Intn(20) == 0 {
					if err := vals.Delete(k); err != nil {
						t.Fatal(err)
					}
					delete(model, k)
					continue
				}
				v := []byte(fmt.Sprintf("sweep %d of %s", op, k))
				if err := vals.Put(k, v); err != nil {
					t.Fatal(err)
				}
				model[k] = v
			}
		}
		r := rnd.Intn(100)
		if m.valuesOnly && r >= 58 && r < 64 {
			r = 64 // a read instead
		}
		switch {
		case r < 50:
			v := make([]byte, 1+rnd.Intn(200))
			rnd.Read(v)
			if err := vals.Put(k, v); err != nil {
				t.Fatal(err)
			}
			model[k] = v
		case r < 58:
			if err := vals.Delete(k); err != nil {
				t.Fatal(err)
			}
			delete(model, k)
		case r < 63:
			if err := lists.Add(k, []byte{byte(op)}); err != nil {
				t.Fatal(err)
			}
			lmodel[k]++
		case r < 64:
			if err := lists.Clear(k); err != nil {
				t.Fatal(err)
			}
			delete(lmodel, k)
		default:
			v, ok, err := vals.Get(k)
			want, wok := model[k]
			if err != nil || ok != wok || !bytes.Equal(v, want) {
				t.Fatalf("seed %d op %d: Get(%s) = %x,%v,%v; want %x,%v", seed, op, k, v, ok, err, want, wok)
			}
		}
		if opts.CacheBytes > 0 && vals.CacheBytes() > opts.CacheBytes {
			t.Fatalf("seed %d op %d: cache holds %d bytes, budget %d", seed, op, vals.CacheBytes(), opts.CacheBytes)
		}
		if rnd.Intn(60) == 0 {
			p, err := b.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if m.declines && rnd.Intn(4) == 0 { // declined
				if err := p.Abandon(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			dir := filepath.Join(tmp, fmt.Sprintf("snap-%d", len(snaps)))
			s := snap{dir: dir, model: map[string][]byte{}, lists: map[string]int{}}
			for k, v := range model {
				s.model[k] = v
			}
			for k, n := range lmodel {
				s.lists[k] = n
			}
			files, err := p.Write(dir)
			if err != nil {
				t.Fatal(err)
			}
			if uploads {
				uploadPrefetches(files)
			}
			// The staged directory must not change under later snapshots
			// (uploads read it asynchronously): copy it now as a restore
			// would download it, and drop the staging.
			copyDir(t, dir, dir+"-copy")
			os.RemoveAll(dir)
			s.dir = dir + "-copy"
			snaps = append(snaps, s)
		}
	}
	if len(snaps) == 0 {
		t.Fatal("no snapshots taken")
	}
	st := b.Chain()
	t.Logf("seed %d: %d snapshots; chain: %d deltas (%d B), base %d B, %d images made, %d forced, %d rebases", seed, len(snaps),
		st.Deltas, st.DeltaBytes, st.BaseBytes, st.Materialized, st.Forced, st.Rebased)
	if m.wantRebases && st.Rebased == 0 {
		t.Errorf("seed %d: no delta rebased the chain", seed)
	}
	for i, s := range snaps {
		r, err := Open(s.dir, Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}})
		if err != nil {
			t.Fatalf("seed %d snapshot %d: %v", seed, i, err)
		}
		rv, _ := Value(r, "v", Bytes{})
		rl, _ := List(r, "l")
		for j := 0; j < keys; j++ {
			k := fmt.Sprintf("k%d", j)
			v, ok, err := rv.Get(k)
			want, wok := s.model[k]
			if err != nil || ok != wok || !bytes.Equal(v, want) {
				t.Fatalf("seed %d snapshot %d: %s = %x,%v,%v; want %x,%v", seed, i, k, v, ok, err, want, wok)
			}
			l, err := rl.Get(k)
			if err != nil || len(l) != s.lists[k] {
				t.Fatalf("seed %d snapshot %d: list %s has %d entries (%v), want %d", seed, i, k, len(l), err, s.lists[k])
			}
		}
		r.Close()
	}
}

// After the first snapshot, an incremental one adds exactly one new file
// to the chain: the delta of the changed entries, about their size.
func TestSnapshotAddsOneDeltaOfTheChanges(t *testing.T) {
	tmp := t.TempDir()
	b := open(t, filepath.Join(tmp, "db"), 0)
	defer b.Close()
	vs, _ := Value(b, "v", Bytes{})
	const n = 20000
	val := make([]byte, 100)
	key := func(i int) string { return fmt.Sprintf("key%08d", i) }
	for i := 0; i < n; i++ {
		rand.Read(val)
		vs.Put(key(i), append([]byte(nil), val...))
	}
	shared := func(files []File) map[string]int64 {
		out := map[string]int64{}
		for _, f := range uploadPrefetches(files) {
			if f.Shared {
				out[f.Name] = f.Size
			}
		}
		return out
	}
	prev, err := b.Checkpoint(filepath.Join(tmp, "s0"))
	if err != nil {
		t.Fatal(err)
	}
	before := shared(prev)
	for round := 1; round <= 12; round++ {
		changed := 0
		for i := round; i < n; i += 100 {
			rand.Read(val)
			vs.Put(key(i), append([]byte(nil), val...))
			changed += len(key(i)) + len(val)
		}
		files, err := b.Checkpoint(filepath.Join(tmp, fmt.Sprintf("s%d", round)))
		if err != nil {
			t.Fatal(err)
		}
		now := shared(files)
		var added []string
		var addedBytes int64
		for name, size := range now {
			if _, ok := before[name]; !ok {
				added = append(added, name)
				addedBytes += size
			}
		}
		if len(added) != 1 || !strings.HasPrefix(added[0], "delta-") {
			t.Fatalf("round %d: new shared files %v, want exactly one delta", round, added)
		}
		if addedBytes > 2*int64(changed) {
			t.Fatalf("round %d: delta of %d bytes for %d changed bytes", round, addedBytes, changed)
		}
		before = now
	}
}

// The cache keeps to its byte budget with values far larger than it, and
// everything beyond it is read back from Pebble.
func TestValueCacheKeepsToItsBudget(t *testing.T) {
	const budget = 1 << 20
	b, err := Open(t.TempDir(), Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}, CacheBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	vs, _ := Value(b, "v", Bytes{})
	const n = 10000 // 10 MB of values
	val := func(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 512) }
	for i := 0; i < n; i++ {
		if err := vs.Put(fmt.Sprintf("k%d", i), val(i)); err != nil {
			t.Fatal(err)
		}
		if vs.CacheBytes() > budget {
			t.Fatalf("after %d puts the cache holds %d bytes, budget %d", i+1, vs.CacheBytes(), budget)
		}
		if i%3000 == 2999 {
			if _, err := b.Checkpoint(filepath.Join(b.Dir(), "..", fmt.Sprintf("chk%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if vs.CacheLen() >= n/5 {
		t.Fatalf("%d of %d keys cached in a %d-byte budget", vs.CacheLen(), n, budget)
	}
	for i := 0; i < n; i++ {
		v, ok, err := vs.Get(fmt.Sprintf("k%d", i))
		if err != nil || !ok || !bytes.Equal(v, val(i)) {
			t.Fatalf("k%d: %v, %v", i, ok, err)
		}
	}
}

// A chain file that names a missing delta, or is not a chain file at all,
// is a clear error naming the file and line.
func TestBadChainFile(t *testing.T) {
	tests := []struct{ content, want string }{
		{"not a chain\n", "is not a ckpt chain file"},
		{"ckpt-chain 1\n" + deltaName(3, false) + "\n", "names a delta table that is missing"},
		{"ckpt-chain 1\n../etc/passwd\n", "is not a delta table name"},
		{"", "is empty"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, ChainFile), []byte(tt.content), 0o644)
		_, err := Open(dir, Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ChainFile) {
			t.Errorf("chain file %q: error %v, want one containing %q and the file name", tt.content, err, tt.want)
		}
	}
}

// A restored state that fits in the cache is preloaded into it, so the
// restored backend is complete again: its next checkpoint rewriting every
// key rebases the chain, as a fresh backend's does. One that does not fit
// is partly cached and stays incomplete. Either way every snapshot after
// the restore holds exactly the state.
func TestRestoredStatePreloads(t *testing.T) {
	tests := []struct {
		name         string
		cacheEntries int
		withList     bool
		wantRebase   bool
		wantLogs     bool // the value-only checkpoint after the restore writes a change log
	}{
		{"fits", 0, false, true, true},
		// List state lives in Pebble: complete all the same, no rebase.
		{"fits, with list state", 0, true, false, true},
		// Beyond the cache the checkpoint's delta is deferred too (a log),
		// ingested with the others at the next spill; never a rebase.
		{"does not fit", 100, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			opts := Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}, CacheEntries: tt.cacheEntries}
			const keys = 500
			b, err := Open(filepath.Join(tmp, "db"), Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}})
			if err != nil {
				t.Fatal(err)
			}
			vs, _ := Value(b, "v", Int64{})
			for i := 0; i < keys; i++ {
				vs.Put(fmt.Sprintf("k%d", i), int64(i))
			}
			vs.Delete("k7")
			listLen := func(i int) int { return 0 }
			if tt.withList {
				l, _ := List(b, "l")
				for i := 0; i < 50; i++ {
					l.Add(fmt.Sprintf("k%d", i), []byte{byte(i)})
				}
				listLen = func(i int) int {
					if i < 50 {
						return 1
					}
					return 0
				}
			}
			snap := filepath.Join(tmp, "snap-1")
			if _, err := b.Checkpoint(snap); err != nil {
				t.Fatal(err)
			}
			b.Close()
			copyDir(t, snap, filepath.Join(tmp, "restored"))

			r, err := Open(filepath.Join(tmp, "restored"), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rv, err := Value(r, "v", Int64{})
			if err != nil {
				t.Fatal(err)
			}
			fits := tt.cacheEntries == 0
			if fits && rv.CacheLen() != keys-1 {
				t.Fatalf("preloaded %d keys, want %d", rv.CacheLen(), keys-1)
			}
			if !fits && rv.CacheLen() > tt.cacheEntries {
				t.Fatalf("preloaded %d keys into a cache of %d", rv.CacheLen(), tt.cacheEntries)
			}
			// A checkpoint that deletes k3 (and changes little else), then
			// one where every live key changes; k7 stays deleted.
			// The restored list is only registered, not written: its
			// entries are in Pebble alone.
			var rl *ListState
			if tt.withList {
				rl, _ = List(r, "l")
			}
			rv.Delete("k3")
			rv.Put("k4", 4)
			if _, err := r.Checkpoint(filepath.Join(tmp, "snap-1b")); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < keys; i++ {
				if i != 7 && i != 3 {
					rv.Put(fmt.Sprintf("k%d", i), int64(i*10))
				}
			}
			snap2 := filepath.Join(tmp, "snap-2")
			if _, err := r.Checkpoint(snap2); err != nil {
				t.Fatal(err)
			}
			if got := r.Chain().Rebased > 0; got != tt.wantRebase {
				t.Fatalf("rebased %v, want %v (chain %+v)", got, tt.wantRebase, r.Chain())
			}
			if _, err := os.Stat(filepath.Join(snap2, deltaName(r.seq-1, true))); (err == nil) != tt.wantLogs {
				ls, _ := ListFiles(snap2)
				t.Fatalf("change log of the last checkpoint: %v, want one: %v (files %v)", err, tt.wantLogs, ls)
			}
			// A spill or Flush ingests into the restored Pebble: stale values
			// must not come back.
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			scanned := map[string]int64{}
			if err := ScanValues(rv, func(k string, v int64) error { scanned[k] = v; return nil }); err != nil {
				t.Fatal(err)
			}
			if _, ok := scanned["k3"]; ok || len(scanned) != keys-2 {
				t.Fatalf("Pebble holds %d keys (k3: %v), want %d without k3", len(scanned), ok, keys-2)
			}
			for _, dir := range []string{"", snap2} {
				check, checkList := rv, rl
				if dir != "" {
					copyDir(t, dir, dir+"-copy")
					o, err := Open(dir+"-copy", opts)
					if err != nil {
						t.Fatal(err)
					}
					defer o.Close()
					check, _ = Value(o, "v", Int64{})
					checkList, _ = List(o, "l")
				}
				if checkList == nil {
					checkList, _ = List(r, "l")
				}
				for i := 0; i < keys; i++ {
					v, ok, err := check.Get(fmt.Sprintf("k%d", i))
					want, wok := int64(i*10), i != 7 && i != 3
					if err != nil || ok != wok || (ok && v != want) {
						t.Fatalf("%q: k%d = %d,%v,%v; want %d,%v", dir, i, v, ok, err, want, wok)
					}
					if l, err := checkList.Get(fmt.Sprintf("k%d", i)); err != nil || len(l) != listLen(i) {
						t.Fatalf("%q: list k%d has %d entries (%v), want %d", dir, i, len(l), err, listLen(i))
					}
				}
			}
		})
	}
}

// Beyond the cache, checkpoints defer their deltas as change logs too, and
// the next spill ingests the logs waiting as one table (not one per
// checkpoint, each another L0 table every read searches); values and
// restores stay exact.
func TestCheckpointsBeyondTheCacheIngestTogether(t *testing.T) {
	tmp := t.TempDir()
	opts := Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}, CacheEntries: 100}
	b, err := Open(filepath.Join(tmp, "db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	vs, _ := Value(b, "v", Int64{})
	want := map[string]int64{}
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("k%d", i)
		vs.Put(k, int64(i))
		want[k] = int64(i)
	}
	if b.complete() {
		t.Fatal("300 keys in a cache of 100: the backend should not be complete")
	}
	var last string
	for c := 1; c <= 5; c++ {
		for i := 0; i < 30; i++ {
			k := fmt.Sprintf("k%d", i*7)
			vs.Put(k, int64(1000*c+i))
			want[k] = int64(1000*c + i)
		}
		last = filepath.Join(tmp, fmt.Sprintf("snap-%d", c))
		if _, err := b.Checkpoint(last); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(last, deltaName(b.seq-1, true))); err != nil {
			t.Fatalf("checkpoint %d beyond the cache wrote no change log: %v", c, err)
		}
	}
	before := b.DB().Metrics().Ingest.Count
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := b.DB().Metrics().Ingest.Count - before; got != 1 {
		t.Fatalf("the spill ingested %d tables for 5 waiting change logs, want 1", got)
	}
	check := func(what string, s *ValueState[int64]) {
		t.Helper()
		got := map[string]int64{}
		if err := ScanValues(s, func(k string, v int64) error { got[k] = v; return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d keys, want %d", what, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: %s = %d, want %d", what, k, got[k], v)
			}
		}
	}
	for i := 0; i < 300; i += 13 { // reads through the cache and Pebble
		k := fmt.Sprintf("k%d", i)
		if v, ok, err := vs.Get(k); err != nil || !ok || v != want[k] {
			t.Fatalf("Get(%s) = %d, %v, %v; want %d", k, v, ok, err, want[k])
		}
	}
	check("after the spill", vs)
	copyDir(t, last, filepath.Join(tmp, "restored"))
	r, err := Open(filepath.Join(tmp, "restored"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rv, _ := Value(r, "v", Int64{})
	check("restored from the last checkpoint", rv)
}
