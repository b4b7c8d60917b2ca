package checkpoint

import (
	"context"
	"errors"
	"fmt"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Found is a complete checkpoint found on storage.
type Found struct {
	ID  int64
	Dir string
}

// FindLatest looks for the newest complete checkpoint under dir, which is
// either a job directory (<dir>/chk-N) or a checkpoint root holding job
// directories (<dir>/<job-id>/chk-N). Only chk-N directories with a
// _metadata file count (snapshot.LatestCompleteCheckpoint): a chk-N without
// one is an in-progress, failed or aborted checkpoint. Checkpoint numbers
// continue across restores, so over several job directories the highest
// complete number is the newest state.
func FindLatest(ctx context.Context, fsys storage.FS, dir string) (Found, bool, error) {
	jobs, err := snapshot.ListJobDirs(ctx, fsys, dir)
	if err != nil {
		return Found{}, false, fmt.Errorf("looking for checkpoints in %s: %w", dir, err)
	}
	dirs := []string{dir}
	if len(jobs) > 0 {
		dirs = dirs[:0]
		for _, j := range jobs {
			dirs = append(dirs, j.URI)
		}
	}
	var best Found
	ok := false
	for _, d := range dirs {
		cd, err := snapshot.LatestCompleteCheckpoint(ctx, fsys, d)
		if errors.Is(err, snapshot.ErrNoCompleteCheckpoint) {
			continue
		}
		if err != nil {
			return best, ok, err
		}
		if !ok || cd.ID > best.ID {
			best, ok = Found{ID: cd.ID, Dir: cd.URI}, true
		}
	}
	return best, ok, nil
}
