package snapshot

import (
	"context"
	"strings"

	"github.com/ckpt-dev/ckpt/storage"
)

// What garbage collection (ckpt gc) may take from a job directory is
// decided in inspector (PlanGC); every file it deletes goes through the
// rule of dispose.go. This file holds the two facts about snapshots that
// the plan needs from here.

// IsStateFileName reports whether name is what Flink (and ckpt's engine)
// calls a state file it uploads: a random UUID (8-4-4-4-12 lowercase hex),
// possibly followed by a suffix ckpt's engine adds. Garbage collection
// removes only such files from shared/ and from stale chk-N directories:
// anything else there was not written by a checkpoint and stays.
func IsStateFileName(name string) bool {
	if len(name) < 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := name[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return len(name) == 36 || !strings.ContainsAny(name[36:], "/")
}

// DisposalFiles lists what Dispose(dir) would remove: the files dir's
// _metadata references inside dir, then _metadata itself (or the
// DisposingName of an interrupted disposal). It reads only; an error
// means Dispose would refuse.
func DisposalFiles(ctx context.Context, fsys storage.FS, dir string) ([]string, error) {
	meta, m, err := disposalMetadata(ctx, fsys, dir)
	if err != nil {
		return nil, err
	}
	files, _ := referencedFiles(m, dir)
	return append(files, meta), nil
}
