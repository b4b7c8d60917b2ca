package inspector_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

func gcName(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// gcJob writes a job dir: chk-1 (beyond num-retained 1) with a private
// file, chk-2 the newest, and an old orphan in shared/.
func gcJob(t *testing.T, root, job string, now time.Time) (orphan, private string) {
	t.Helper()
	jd := filepath.Join(root, job)
	old := now.Add(-3 * time.Hour)
	put := func(p string) string {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("state"), 0o644)
		os.Chtimes(p, old, old)
		return p
	}
	orphan = put(filepath.Join(jd, "shared", gcName(1)))
	private = put(filepath.Join(jd, "chk-1", gcName(2)))
	kept := put(filepath.Join(jd, "shared", gcName(3)))
	sptest.WriteCheckpoint(t, storage.NewLocal(), jd, 1, old, private, kept)
	sptest.WriteCheckpoint(t, storage.NewLocal(), jd, 2, old.Add(time.Minute), kept)
	return orphan, private
}

func TestPlanGCGuards(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	now := time.Now()
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

	t.Run("a job the target reports busy is held back whole", func(t *testing.T) {
		root := t.TempDir()
		gcJob(t, root, a, now)
		p, err := inspector.PlanGC(ctx, fsys, root, inspector.GCOptions{Retained: 1, MinAge: time.Hour, Now: now,
			HeldBack: map[string]string{a: "checkpoint in progress"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 0 || len(p.Kept) != 2 || !p.HeldBack() {
			t.Fatalf("items %+v kept %+v", p.Items, p.Kept)
		}
	})

	t.Run("a chk-N beyond retention whose file another job's checkpoint uses stays", func(t *testing.T) {
		root := t.TempDir()
		_, private := gcJob(t, root, a, now)
		// Job b restored from a's chk-1 in CLAIM mode: its checkpoint uses chk-1's private file.
		sptest.WriteCheckpoint(t, fsys, filepath.Join(root, b), 1, now.Add(-2*time.Hour), private)
		p, err := inspector.PlanGC(ctx, fsys, root, inspector.GCOptions{Retained: 1, MinAge: time.Hour, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if it.Kind == inspector.GCBeyond {
				t.Fatalf("chk-1 planned though job b uses its file: %+v", it)
			}
		}
	})

	t.Run("a disposal cut short after its rename is finished by the next gc", func(t *testing.T) {
		root := t.TempDir()
		_, private := gcJob(t, root, a, now)
		chk := filepath.Dir(private)
		precious := filepath.Join(chk, "precious.txt")
		os.WriteFile(precious, []byte("not ckpt's"), 0o644)
		// The first gc renamed _metadata and removed the state file, then died.
		if err := os.Rename(filepath.Join(chk, "_metadata"), filepath.Join(chk, "_metadata.disposing")); err != nil {
			t.Fatal(err)
		}
		os.Remove(private)
		p, err := inspector.PlanGC(ctx, fsys, root, inspector.GCOptions{Retained: 1, MinAge: time.Hour, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inspector.ExecuteGC(ctx, fsys, p, inspector.GCExecOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(chk, "_metadata.disposing")); !os.IsNotExist(err) {
			t.Fatalf("the interrupted disposal was not finished: %v (plan %+v, kept %+v)", err, p.Items, p.Kept)
		}
		if b, err := os.ReadFile(precious); err != nil || string(b) != "not ckpt's" {
			t.Fatalf("the foreign file beside it: %q %v", b, err)
		}
	})

	t.Run("a chk-N somebody else deletes meanwhile is no error", func(t *testing.T) {
		for _, what := range []string{"_metadata", "the directory"} {
			root := t.TempDir()
			_, private := gcJob(t, root, a, now)
			p, err := inspector.PlanGC(ctx, fsys, root, inspector.GCOptions{Retained: 1, MinAge: time.Hour, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			chk := filepath.Dir(private)
			if what == "_metadata" {
				os.Remove(filepath.Join(chk, "_metadata"))
			} else {
				os.RemoveAll(chk)
			}
			res, err := inspector.ExecuteGC(ctx, fsys, p, inspector.GCExecOptions{})
			if err != nil {
				t.Fatalf("%s deleted meanwhile: %v", what, err)
			}
			var skipped int64
			for _, s := range res.Skipped {
				skipped += s.Size
			}
			if res.RemovedBytes+res.GoneBytes+skipped != p.Bytes {
				t.Fatalf("%s deleted meanwhile: %+v, plan %d bytes", what, res, p.Bytes)
			}
			if what == "_metadata" {
				if _, err := os.Stat(private); err != nil {
					t.Fatalf("a chk-N without _metadata was disposed: %v", err)
				}
			}
		}
	})

	t.Run("a file a checkpoint references after the plan stays", func(t *testing.T) {
		root := t.TempDir()
		orphan, _ := gcJob(t, root, a, now)
		p, err := inspector.PlanGC(ctx, fsys, root, inspector.GCOptions{Retained: 1, MinAge: time.Hour, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if p.Files != 3 {
			t.Fatalf("plan: %+v", p.Items)
		}
		// Meanwhile job b completes a checkpoint using the orphan.
		sptest.WriteCheckpoint(t, fsys, filepath.Join(root, b), 1, now, orphan)
		res, err := inspector.ExecuteGC(ctx, fsys, p, inspector.GCExecOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(orphan); err != nil {
			t.Fatalf("the file job b now uses was deleted")
		}
		var skipped int64
		for _, s := range res.Skipped {
			skipped += s.Size
		}
		if res.Removed != 2 || len(res.Skipped) != 1 || res.RemovedBytes+res.GoneBytes+skipped != p.Bytes {
			t.Fatalf("result %+v, plan %d bytes", res, p.Bytes)
		}
	})
}
