package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// GCFacts asks c about the job of each job directory (its base name is the
// job ID) what garbage collection must know, into opts: num-retained,
// where the job was last restored from, and — the guard — whether it is
// running with a checkpoint in progress (then its directory is held back).
// A job the cluster does not know is not running. An unreachable cluster
// is an error: the guard cannot be checked, so nothing may be deleted.
func GCFacts(ctx context.Context, c Cluster, jobDirs []string, opts *inspector.GCOptions) error {
	if opts.JobRetained == nil {
		opts.JobRetained = map[string]int{}
	}
	if opts.RestoredFrom == nil {
		opts.RestoredFrom = map[string]string{}
	}
	if opts.HeldBack == nil {
		opts.HeldBack = map[string]string{}
	}
	for _, jd := range jobDirs {
		id := strings.ToLower(storage.Base(jd))
		if !snapshot.IsJobID(id) {
			continue
		}
		job, err := c.Job(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("asking the target whether job %s is running: %w", id, err)
		}
		st, err := c.Checkpoints(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("asking the target for job %s's checkpoints: %w", id, err)
		}
		if st != nil {
			if st.LatestRestored != nil && st.LatestRestored.ExternalPath != "" {
				opts.RestoredFrom[id] = st.LatestRestored.ExternalPath
			}
			if !job.Status.Terminal() && st.Counts.InProgress > 0 {
				opts.HeldBack[id] = fmt.Sprintf("the target reports job %s %s with %d checkpoint(s) in progress", id, job.Status, st.Counts.InProgress)
			}
		}
		if cfg, err := c.CheckpointConfig(ctx, id); err == nil && cfg.NumRetained > 0 {
			opts.JobRetained[id] = cfg.NumRetained
		}
	}
	return nil
}
