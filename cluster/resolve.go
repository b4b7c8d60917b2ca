package cluster

import (
	"context"
	"fmt"
	"strings"
)

// ResolveJobID turns what a user typed for a job — its full 32-hex ID or
// a prefix of it, like the 8 hex digits the job lists show — into the
// job's full ID, asking c for its jobs when the ID is not complete. A
// prefix that names no job, or more than one, is an error naming the
// candidates: an operator must never act on a job they did not mean.
func ResolveJobID(ctx context.Context, c Cluster, prefix string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(prefix))
	if IsJobID(p) {
		return p, nil
	}
	if p == "" || len(p) > 32 || strings.Trim(p, "0123456789abcdef") != "" {
		return "", fmt.Errorf("job %q: want a job ID (32 hex digits) or a prefix of one", prefix)
	}
	if c == nil {
		return "", fmt.Errorf("job %q: a prefix needs a cluster to look the job up", prefix)
	}
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return "", fmt.Errorf("job %q: listing jobs: %w", prefix, err)
	}
	var match []string
	for _, j := range jobs {
		if id := strings.ToLower(j.ID); strings.HasPrefix(id, p) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return "", fmt.Errorf("job %q: no job's ID starts with it (%d jobs listed)", prefix, len(jobs))
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("job %q is ambiguous: %d jobs start with it (%s); type more of the ID", prefix, len(match), strings.Join(match, ", "))
}
