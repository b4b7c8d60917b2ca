package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
)

// jobLister is a Cluster that only lists jobs (any other call panics on
// the nil embedded interface: ResolveJobID must not make one).
type jobLister struct {
	cluster.Cluster
	jobs  []cluster.JobSummary
	err   error
	calls int
}

func (l *jobLister) Jobs(context.Context) ([]cluster.JobSummary, error) {
	l.calls++
	return l.jobs, l.err
}

func TestResolveJobID(t *testing.T) {
	jobs := []cluster.JobSummary{
		{ID: "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"},
		{ID: "3f2a1b0cffffffffffffffffffffffff"},
		{ID: "7C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F"},
	}
	tests := []struct {
		in, want, err string
		noCall        bool
	}{
		{in: "7c1d2e3f", want: "7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"},
		{in: "7C1D", want: "7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"},
		{in: "3f2a1b0c9", want: "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"},
		{in: "3f2a1b0c", err: "ambiguous: 2 jobs of the cluster start with it"},
		{in: "deadbeef", err: "no job of the cluster has an ID starting with deadbeef; its 3 jobs: 3f2a1b0c"},
		{in: "orders", err: "prefix of one", noCall: true},
		{in: "", err: "prefix of one", noCall: true},
		// A full ID is taken as given, even if the list does not show it
		// (a finished job the history server still knows).
		{in: "0123456789abcdef0123456789ABCDEF", want: "0123456789abcdef0123456789abcdef", noCall: true},
	}
	for _, tc := range tests {
		l := &jobLister{jobs: jobs}
		got, err := cluster.ResolveJobID(context.Background(), l, tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.noCall && l.calls != 0:
			t.Errorf("%q: listed jobs %d times, want none", tc.in, l.calls)
		}
	}
	down := &jobLister{err: errors.New("connection refused")}
	if _, err := cluster.ResolveJobID(context.Background(), down, "7c1d"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("unreachable cluster: %v", err)
	}
}
