package cluster

import (
	"context"
	"time"
)

// disposalWait bounds the wait for a cluster's savepoint disposal: a
// JobManager that never finishes it must not keep the savepoint forever
// (the caller's fallback takes over).
var disposalWait = 2 * time.Minute

// SavepointDisposal is how savepoints.Dispose asks c to dispose of a
// savepoint: trigger /savepoint-disposal and wait (at most two minutes)
// for the operation. It is nil when c is nil, so the caller falls back to
// deleting a self-contained savepoint itself. The safety rules (what may
// be disposed of, the fallback) live with the savepoints, below the
// cluster; only this call needs one.
func SavepointDisposal(c Cluster) func(ctx context.Context, uri string) error {
	if c == nil {
		return nil
	}
	return func(ctx context.Context, uri string) error {
		ctx, cancel := context.WithTimeout(ctx, disposalWait)
		defer cancel()
		t, err := c.DisposeSavepoint(ctx, uri)
		if err != nil {
			return err
		}
		_, err = Wait(ctx, c, t)
		return err
	}
}
