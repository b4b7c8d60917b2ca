package cluster

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// Wait polls the operation t until it completes or ctx ends, backing off
// from 50 ms to 1 s between polls (savepoints of large state take minutes;
// a fixed short timeout would give up on them, so the caller's ctx bounds
// the wait). A completed operation that failed returns the operation and
// its *Failure.
func Wait(ctx context.Context, c Cluster, t Trigger) (*Operation, error) {
	delay := 50 * time.Millisecond
	for {
		op, err := c.Poll(ctx, t)
		if err != nil {
			return nil, err
		}
		if op.Done() {
			return op, op.Err()
		}
		select {
		case <-ctx.Done():
			return op, fmt.Errorf("%s %s of job %s still in progress: %w", t.Kind, t.ID, t.JobID, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// Submit uploads a program and runs it: Flink's POST /jars/upload followed
// by POST /jars/:jarid/run. It returns the new job's ID.
func Submit(ctx context.Context, c Cluster, filename string, content []byte, req RunRequest) (string, error) {
	a, err := c.UploadArtifact(ctx, filename, bytes.NewReader(content))
	if err != nil {
		return "", err
	}
	return c.RunArtifact(ctx, a.ID, req)
}
