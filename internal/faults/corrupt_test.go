package faults

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// corruptFaults flips one byte, at seeded positions, in every kind of file
// a snapshot has — _metadata and each kind of state file the engine writes
// in checkpoints (sorted tables, change logs, manifests, operator state)
// and in savepoints (native copies, canonical key-group streams) — and
// restores. The result must be an error naming the file, or, when the byte
// lies where the restore does not read, exactly the right state: never a
// wrong value.
func corruptFaults(t *testing.T, sz size) {
	t.Run("checkpoint", func(t *testing.T) {
		t.Parallel()
		src := corruptSourceCheckpoint(t)
		corruptSnapshot(t, sz, "checkpoint", src)
	})
	for _, format := range []string{"CANONICAL", "NATIVE"} {
		t.Run("savepoint-"+strings.ToLower(format), func(t *testing.T) {
			t.Parallel()
			src := corruptSourceSavepoint(t, format)
			corruptSnapshot(t, sz, "savepoint-"+strings.ToLower(format), src)
		})
	}
}

// snapSource is a snapshot to restore from and the sink directory as it
// was when the snapshot was the job's latest state.
type snapSource struct {
	dir, out string
}

// corruptSourceCheckpoint is the newest retained checkpoint of a job that
// was itself resumed from a checkpoint (so its keyed state holds both
// sorted tables and change logs).
func corruptSourceCheckpoint(t *testing.T) snapSource {
	tmp := t.TempDir()
	out, base := filepath.Join(tmp, "out"), filepath.Join(tmp, "ckpt")
	restore := ""
	for round := 0; round < 2; round++ {
		kv := []string{"execution.checkpointing.interval=50ms", "execution.checkpointing.dir=" + base,
			"execution.checkpointing.num-retained=1",
			"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION", "parallelism.default=2"}
		if restore != "" {
			kv = append(kv, "execution.state-recovery.path="+restore)
		}
		job, err := engine.Submit(context.Background(), countsJob(out, jobRecords, jobKeys, 3000), mustCfg(t, kv...), engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !waitUntil(30*time.Second, func() bool { n, _ := completedCheckpoints(job); return n >= 3 }) {
			t.Fatal("no checkpoints")
		}
		job.Cancel()
		if st, err := job.Wait(); st != engine.Canceled {
			t.Fatalf("%s %v", st, err)
		}
		found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), base)
		if err != nil || !ok {
			t.Fatalf("no retained checkpoint: %v", err)
		}
		restore = found.Dir
	}
	return snapSource{dir: restore, out: out}
}

// corruptSourceSavepoint is a savepoint of a job without periodic
// checkpoints: nothing was committed, so restoring it (which commits what
// it covers) must give exactly the reference.
func corruptSourceSavepoint(t *testing.T, format string) snapSource {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	job, err := engine.Submit(context.Background(), countsJob(out, jobRecords, jobKeys, 3000), mustCfg(t,
		"execution.checkpointing.dir="+filepath.Join(tmp, "ckpt"), "parallelism.default=2"), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !waitUntil(30*time.Second, func() bool { return job.Status() == engine.Running }) {
		t.Fatal("not running")
	}
	time.Sleep(400 * time.Millisecond)
	ctx, cancel := ctxT(time.Minute)
	defer cancel()
	sp, err := job.Savepoint(ctx, filepath.Join(tmp, "sp"), snapshot.SavepointFormat(format))
	if err != nil {
		t.Fatal(err)
	}
	job.Cancel()
	job.Wait()
	return snapSource{dir: sp, out: out}
}

// snapFile is one file of a snapshot and its kind.
type snapFile struct {
	uri, kind string
}

var digits = regexp.MustCompile(`[0-9]+`)

// kindOf names a file's kind from where _metadata references it: its
// slot, its role, and its backend name with the numbers taken out
// (000012.sst → keyed/shared/#.sst, MANIFEST-000005 → keyed/private/MANIFEST-#).
func kindOf(v snapshot.Visit) string {
	slot := map[snapshot.Slot]string{snapshot.SlotManagedKeyed: "keyed", snapshot.SlotRawKeyed: "raw-keyed",
		snapshot.SlotManagedOperator: "operator", snapshot.SlotRawOperator: "raw-operator"}[v.Slot]
	if slot == "" {
		slot = string(v.Slot)
	}
	k := slot
	if v.Role != "" {
		k += "/" + string(v.Role)
	}
	if v.LocalName != "" {
		k += "/" + digits.ReplaceAllString(v.LocalName, "#")
	}
	return k
}

// snapshotFiles lists the files of the snapshot in dir, one entry per
// file, with its kind.
func snapshotFiles(t *testing.T, dir string) []snapFile {
	t.Helper()
	m, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), dir)
	if err != nil {
		t.Fatal(err)
	}
	files := []snapFile{{uri: filepath.Join(dir, snapshot.MetadataFileName), kind: "_metadata"}}
	seen := map[string]bool{}
	m.Walk(func(v snapshot.Visit) {
		h, ok := v.Handle.(snapshot.StreamHandle)
		if !ok {
			return
		}
		if _, kg := h.(*snapshot.KeyGroupsHandle); kg {
			return
		}
		uri, ok, err := m.FileURI(h)
		if err != nil || !ok || uri == "" || seen[uri] {
			return
		}
		seen[uri] = true
		files = append(files, snapFile{uri: localPath(uri), kind: kindOf(v)})
	})
	// Files in the directory that _metadata does not name (side files such
	// as checksums) are state too.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() && !listed(files, p) && e.Name() != snapshot.MetadataFileName {
			kind := "side/" + digits.ReplaceAllString(e.Name(), "#")
			if _, ext, ok := strings.Cut(e.Name(), "."); ok {
				kind = "side/*." + ext // a side file of a state file, named after it
			}
			files = append(files, snapFile{uri: p, kind: kind})
		}
	}
	return files
}

func corruptSnapshot(t *testing.T, sz size, name string, src snapSource) {
	files := snapshotFiles(t, src.dir)
	byKind := map[string][]snapFile{}
	for _, f := range files {
		byKind[f.kind] = append(byKind[f.kind], f)
	}
	var kinds []string
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	t.Logf("%s %s: %d files of %d kinds: %v", name, src.dir, len(files), len(kinds), kinds)
	for _, kind := range kinds {
		for i := 0; i < sz.corruptPerKind; i++ {
			seed := int64(len(kind)*1000 + i)
			for _, c := range kind {
				seed = seed*31 + int64(c)
			}
			rng := rand.New(rand.NewSource(seed))
			f := byKind[kind][rng.Intn(len(byKind[kind]))]
			t.Run(fmt.Sprintf("%s/flip=%d", strings.ReplaceAll(kind, "/", ":"), i), func(t *testing.T) {
				r := flipAndRestore(t, rng, src, f)
				r.Family, r.Runs, r.Faults = "corrupt/"+name, 1, 1
				report.Add(r)
			})
		}
	}
}

// flipAndRestore flips one byte of f (and puts it back afterwards),
// restores the job from the snapshot into a copy of its sink directory,
// and judges the outcome.
func flipAndRestore(t *testing.T, rng *rand.Rand, src snapSource, f snapFile) Row {
	orig, err := os.ReadFile(f.uri)
	if err != nil {
		t.Fatal(err)
	}
	if len(orig) == 0 {
		t.Skipf("%s is empty: no byte to flip", f.uri)
	}
	pos := rng.Intn(len(orig))
	bad := append([]byte(nil), orig...)
	bad[pos] ^= byte(1 + rng.Intn(255))
	if err := os.WriteFile(f.uri, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := os.WriteFile(f.uri, orig, 0o644); err != nil {
			t.Fatalf("putting %s back: %v", f.uri, err)
		}
	}()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	copyDir(t, src.out, out)
	t.Logf("byte %d of %d of %s (%s) flipped %#02x → %#02x", pos, len(orig), f.uri, f.kind, orig[pos], bad[pos])

	var restoreErr error
	job, err := engine.Submit(context.Background(), countsJob(out, jobRecords, jobKeys, 0), mustCfg(t,
		"execution.checkpointing.dir="+filepath.Join(tmp, "ckpt"),
		"execution.state-recovery.path="+src.dir,
		"parallelism.default=2",
		"restart-strategy.type=none",
	), engine.Options{})
	if err != nil {
		restoreErr = err
	} else {
		done := make(chan struct{})
		var st engine.Status
		go func() { st, restoreErr = job.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			job.Cancel()
			<-done
			t.Fatalf("restoring with a corrupt %s hung (job %s)", f.kind, st)
		}
		if st == engine.Finished {
			restoreErr = nil
		} else if restoreErr == nil {
			restoreErr = fmt.Errorf("job ended %s without an error", st)
		}
	}
	if restoreErr != nil {
		if namesFile(restoreErr.Error(), f, src.dir) {
			t.Logf("refused, naming the file: %v", firstLine(restoreErr))
			return Row{Recovered: 1}
		}
		t.Errorf("restoring with a corrupt %s (%s, byte %d): the error does not name the file: %v", f.kind, f.uri, pos, restoreErr)
		return Row{}
	}
	got, want := committed(t, out), reference(jobRecords, jobKeys)
	lost, dup, ex := lostAndDuplicated(got, want)
	if lost+dup > 0 {
		t.Errorf("WRONG STATE restored from a corrupt %s (%s, byte %d) without an error: %d records lost, %d duplicated or wrong: %s",
			f.kind, f.uri, pos, lost, dup, ex)
		return Row{Lost: lost, Duplicated: dup}
	}
	t.Logf("byte %d is not read by the restore: exact state", pos)
	return Row{Recovered: 1}
}

// namesFile: the error names the corrupted file — by its name, or, for a
// corrupt _metadata (whose damage can send the restore to a file that
// does not exist), by the name of _metadata or of the snapshot directory.
func namesFile(msg string, f snapFile, dir string) bool {
	if strings.Contains(msg, filepath.Base(f.uri)) {
		return true
	}
	return f.kind == "_metadata" && strings.Contains(msg, filepath.Base(dir))
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func listed(files []snapFile, p string) bool {
	for _, f := range files {
		if f.uri == p {
			return true
		}
	}
	return false
}

// localPath turns a local file URI (file:/x, file:///x) into a path.
func localPath(uri string) string {
	if l, err := storage.Parse(uri); err == nil && l.Scheme == "file" {
		return l.Path
	}
	return uri
}
