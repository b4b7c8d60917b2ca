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
	return MatchJobID(jobs, p, "the cluster")
}

// maxCandidates bounds the jobs an error names.
const maxCandidates = 8

// MatchJobID is the one job of jobs whose ID starts with prefix (hex,
// any case). None or several is an error naming the candidates (short IDs
// when none matched, full IDs when several did), with target saying whose
// jobs they are ("jm:8081").
func MatchJobID(jobs []JobSummary, prefix, target string) (string, error) {
	prefix = strings.ToLower(prefix)
	var hits []JobSummary
	for _, j := range jobs {
		if strings.HasPrefix(strings.ToLower(j.ID), prefix) {
			hits = append(hits, j)
		}
	}
	name := func(js []JobSummary, full bool) string {
		var parts []string
		for i, j := range js {
			if i == maxCandidates {
				parts = append(parts, fmt.Sprintf("and %d more", len(js)-i))
				break
			}
			id := j.ID
			if !full && len(id) > 8 {
				id = id[:8]
			}
			parts = append(parts, fmt.Sprintf("%s %s (%s)", id, j.Name, j.Status))
		}
		return strings.Join(parts, ", ")
	}
	switch len(hits) {
	case 1:
		return strings.ToLower(hits[0].ID), nil
	case 0:
		switch len(jobs) {
		case 0:
			return "", fmt.Errorf("no job of %s has an ID starting with %s: it has no jobs", target, prefix)
		case 1:
			return "", fmt.Errorf("no job of %s has an ID starting with %s; its 1 job: %s", target, prefix, name(jobs, false))
		}
		return "", fmt.Errorf("no job of %s has an ID starting with %s; its %d jobs: %s", target, prefix, len(jobs), name(jobs, false))
	}
	return "", fmt.Errorf("%s is ambiguous: %d jobs of %s start with it — %s; type more digits", prefix, len(hits), target, name(hits, true))
}
