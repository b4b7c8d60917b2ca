package engine

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// preciousFiles writes files that belong to nobody but the user (or
// another job) into dir; the returned check fails the test if any of them
// is gone or changed.
func preciousFiles(t *testing.T, dir string, rel ...string) func() {
	t.Helper()
	for _, r := range rel {
		p := filepath.Join(dir, r)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("precious "+r), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		for _, r := range rel {
			if b, err := os.ReadFile(filepath.Join(dir, r)); err != nil || string(b) != "precious "+r {
				t.Errorf("%s is not the job's, yet it is gone or changed (%v)", r, err)
			}
		}
	}
}

// checkpointDirs lists the chk-N directories in dir.
func checkpointDirs(t *testing.T, dir string) []string {
	var out []string
	for _, n := range listNames(t, dir) {
		if _, ok := snapshot.ParseCheckpointDirName(n); ok {
			out = append(out, n)
		}
	}
	return out
}

// With create-subdir off the job's directory is the configured one,
// shared with another job's checkpoint and the user's files. Whatever the
// job's end and retention policy, it deletes only what it wrote: its own
// chk-N (all of them, or none under RETAIN_ON_CANCELLATION), its shared
// files, taskowned/ which it made — never the directory, README.txt,
// the other job's chk-5 or its shared file.
func TestCreateSubdirOffDeletesOnlyTheJobsFiles(t *testing.T) {
	tests := []struct {
		end       Status
		retention string
		keep      bool // the job's own checkpoints stay
	}{
		{Finished, "DELETE_ON_CANCELLATION", false},
		{Finished, "NO_EXTERNALIZED_CHECKPOINTS", false},
		{Canceled, "DELETE_ON_CANCELLATION", false},
		{Canceled, "NO_EXTERNALIZED_CHECKPOINTS", false},
		{Canceled, "RETAIN_ON_CANCELLATION", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.end)+"/"+tt.retention, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "ckpt")
			intact := preciousFiles(t, dir, "README.txt", "chk-5/_metadata", "shared/other-job.sst")
			records := int64(0)
			if tt.end == Finished {
				records = 12000
			}
			job, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), records, 500, 15000, 2, nil), cfg(t,
				"execution.checkpointing.interval=20ms",
				"execution.checkpointing.dir="+dir,
				"execution.checkpointing.create-subdir=false",
				"execution.checkpointing.incremental=true",
				"state.checkpoints.num-retained=2",
				"execution.checkpointing.externalized-checkpoint-retention="+tt.retention,
				"parallelism.default=2",
			), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if job.CheckpointDir() != dir {
				t.Fatalf("job directory %s, want the configured %s", job.CheckpointDir(), dir)
			}
			events, _ := job.Subscribe()
			refused := make(chan bool, 1)
			go func() {
				r := false
				for e := range events {
					if e.Kind == event.CheckpointFailed && e.CheckpointID == 5 && strings.Contains(e.Cause, "already exists") {
						r = true
					}
				}
				refused <- r
			}()
			if tt.end == Canceled {
				waitFor(t, "checkpoint 7", func() bool { r := job.Retained(); return len(r) > 0 && r[len(r)-1].ID >= 7 })
				job.Cancel()
			}
			if st, err := job.Wait(); st != tt.end {
				t.Fatalf("job ended %s (%v), want %s", st, err, tt.end)
			}
			ownRetained := job.Retained()
			if tt.end == Canceled && !<-refused {
				t.Error("checkpoint 5 was not refused, though another job's chk-5 is there")
			}
			intact()
			var want []string
			if tt.keep {
				for _, cp := range ownRetained {
					want = append(want, storage.Base(cp.Dir))
				}
			}
			want = append(want, "chk-5")
			sort.Strings(want)
			if got := checkpointDirs(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("checkpoint directories %v after the job ended, want %v", got, want)
			}
			names := listNames(t, dir)
			if !tt.keep {
				if got := strings.Join(names, " "); got != "README.txt chk-5 shared" {
					t.Errorf("configured directory holds %s, want only what was there before", got)
				}
				if got := listNames(t, filepath.Join(dir, "shared")); strings.Join(got, " ") != "other-job.sst" {
					t.Errorf("shared/ holds %v, want only the other job's file", got)
				}
			}
		})
	}
}

// quotaFS is local storage below root with a byte quota: a write that
// would take what is stored below root over the quota fails with ENOSPC,
// as on a full disk; removing files gives the space back.
type quotaFS struct {
	storage.FS
	root  string
	quota atomic.Int64 // 0: unlimited
}

func (q *quotaFS) used() int64 {
	var n int64
	filepath.WalkDir(q.root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func (q *quotaFS) Create(ctx context.Context, uri string, opts storage.CreateOptions) (storage.Writer, error) {
	w, err := q.FS.Create(ctx, uri, opts)
	if err != nil {
		return nil, err
	}
	return &quotaWriter{Writer: w, q: q, uri: uri}, nil
}

type quotaWriter struct {
	storage.Writer
	q   *quotaFS
	uri string
}

func (w *quotaWriter) Write(b []byte) (int, error) {
	if lim := w.q.quota.Load(); lim > 0 && w.q.used()+int64(len(b)) > lim {
		return 0, &storage.Error{Op: "write", URI: w.uri, Err: syscall.ENOSPC}
	}
	return w.Writer.Write(b)
}

// On a full disk checkpoints fail with "no space left on device"; what
// they wrote before running out — chk-N files, shared files — is removed,
// so the space is not lost to leftovers, and the job goes on (within
// tolerable failures) or fails over with the cause (beyond them). When
// space returns, checkpoints complete again, and in the end the disk holds
// exactly the retained checkpoints and the shared files they reference. A
// savepoint that fails for lack of space into a directory holding the
// user's notes leaves the notes and nothing else.
func TestFullDiskLeavesNothingBehind(t *testing.T) {
	for _, tolerable := range []string{"100", "0"} {
		t.Run("tolerable="+tolerable, func(t *testing.T) {
			tmp := t.TempDir()
			root := filepath.Join(tmp, "disk")
			dir := filepath.Join(root, "ckpt")
			userDir := filepath.Join(root, "user")
			intact := preciousFiles(t, userDir, "notes.txt")
			q := &quotaFS{FS: storage.NewLocal(), root: root}
			job, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 0, 3000, 30000, 2, nil), cfg(t,
				"execution.checkpointing.interval=30ms",
				"execution.checkpointing.dir="+dir,
				"execution.checkpointing.incremental=true",
				"execution.checkpointing.tolerable-failed-checkpoints="+tolerable,
				"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
				"state.checkpoints.num-retained=2",
				"restart-strategy.fixed-delay.delay=10ms",
				"parallelism.default=2",
			), Options{FS: q})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { job.Cancel(); job.Wait() }()
			events, _ := job.Subscribe()
			waitFor(t, "two checkpoints", func() bool { r := job.Retained(); return len(r) > 0 && r[len(r)-1].ID >= 2 })
			// The disk fills up: room for half of what a checkpoint
			// uploads, so checkpoints fail halfway through their uploads.
			var upload int64
			for _, s := range job.Checkpoints() {
				if s.Status == "COMPLETED" {
					upload = max(upload, s.Checkpointed)
				}
			}
			q.quota.Store(q.used() + upload/2)
			var lastFailed int64
			failures, failedOver := 0, false
			deadline := time.After(time.Minute)
			for failures < 3 || (tolerable == "0" && !failedOver) {
				select {
				case e := <-events:
					switch {
					case e.Kind == event.CheckpointFailed && strings.Contains(e.Cause, "no space left on device"):
						failures++
						lastFailed = max(lastFailed, e.CheckpointID)
					case e.Kind == event.TaskFailed && strings.Contains(e.Cause, "tolerable failure threshold") &&
						strings.Contains(e.Cause, "no space left on device"):
						failedOver = true
					}
				case <-deadline:
					t.Fatalf("on a full disk: %d checkpoints failed for lack of space, failed over %v", failures, failedOver)
				}
			}
			if tolerable != "0" {
				if failedOver {
					t.Error("the job failed over within tolerable failures")
				}
				q.quota.Store(q.used() + 1<<10) // fuller still: no room for a savepoint
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := job.Savepoint(ctx, userDir, "")
				cancel()
				if err == nil || !strings.Contains(err.Error(), "no space left on device") {
					t.Errorf("savepoint on a full disk: %v, want no space left", err)
				}
			}
			// Space returns: checkpoints complete again.
			q.quota.Store(0)
			waitFor(t, "a checkpoint after the disk was full", func() bool {
				r := job.Retained()
				return len(r) > 0 && r[len(r)-1].ID > lastFailed
			})
			job.Cancel()
			job.Wait()
			intact()
			if got := listNames(t, userDir); strings.Join(got, " ") != "notes.txt" {
				t.Errorf("the user's directory holds %v after a failed savepoint, want only notes.txt", got)
			}
			var want []string
			referenced := map[string]bool{}
			for _, cp := range job.Retained() {
				want = append(want, storage.Base(cp.Dir))
				for _, u := range checkpoint.SharedURIs(cp.Metadata) {
					referenced[storage.Base(u)] = true
				}
			}
			sort.Strings(want)
			jobDir := job.CheckpointDir()
			if got := checkpointDirs(t, jobDir); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("checkpoint directories %v, want only the retained %v: failed checkpoints left behind", got, want)
			}
			for _, n := range listNames(t, filepath.Join(jobDir, "shared")) {
				if !referenced[n] {
					t.Errorf("shared/%s is referenced by no retained checkpoint: left behind by a failed one", n)
				}
			}
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && storage.IsTemporary(d.Name()) {
					t.Errorf("unfinished write left behind: %s", p)
				}
				return nil
			})
		})
	}
}
