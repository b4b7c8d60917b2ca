// Package schedule takes periodic savepoints of a target's jobs and keeps
// only what a retention policy says — the policy `ckpt savepoints
// --keep/--older-than` previews (inspector/savepoints) — disposing the rest
// through the cluster (Flink's /savepoint-disposal).
//
// It only ever removes savepoints it took itself: each one is recorded in a
// journal (one JSON line per savepoint, in ckpt's state directory) and only
// journaled savepoints are candidates for retention. A savepoint you take
// by hand into the same directory, and anything else there, stays.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/internal/statedir"
	"github.com/ckpt-dev/ckpt/storage"
)

// Scheduler takes savepoints of jobs and applies retention to them.
type Scheduler struct {
	C  cluster.Cluster
	FS storage.FS
	// Jobs are the job IDs to savepoint; nil = every running job.
	Jobs []string
	// Dir is where savepoints go ("" = the cluster's default directory).
	Dir    string
	Format cluster.SavepointFormat
	Policy savepoints.Policy
	// Journal is the file recording the savepoints this scheduler took.
	Journal string
	// Wait bounds each savepoint (default 10 minutes).
	Wait time.Duration
	// Log receives one line per action; Now is the clock.
	Log io.Writer
	Now func() time.Time
}

// Record is one journal line: a savepoint the scheduler took, or (Disposed)
// one it disposed.
type Record struct {
	JobID    string    `json:"job_id"`
	JobName  string    `json:"job_name,omitempty"`
	URI      string    `json:"uri"`
	Taken    time.Time `json:"taken"`
	Disposed bool      `json:"disposed,omitempty"`
}

// Result is what a round did.
type Result struct {
	Taken    []Record
	Disposed []string
	Kept     map[string][]string // job → its journaled savepoints still there, newest first
	Errors   []error
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) logf(format string, a ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, "%s "+format+"\n", append([]any{s.now().Format(time.RFC3339)}, a...)...)
	}
}

// Round takes one savepoint of each job, then applies the policy to each
// job's journaled savepoints. A failed savepoint or disposal is in
// Result.Errors and does not stop the others.
func (s *Scheduler) Round(ctx context.Context) Result {
	res := Result{Kept: map[string][]string{}}
	jobs, err := s.jobs(ctx)
	if err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	for _, j := range jobs {
		rec, err := s.take(ctx, j)
		if err != nil {
			res.Errors = append(res.Errors, err)
			s.logf("FAILED savepoint of %s (%s): %v", j.Name, j.ID, err)
			continue
		}
		res.Taken = append(res.Taken, rec)
		s.logf("savepoint of %s (%s): %s", j.Name, j.ID, rec.URI)
	}
	if s.Policy.KeepNewest == 0 && s.Policy.OlderThan == 0 {
		return res
	}
	recs, err := ReadJournal(s.Journal)
	if err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	for _, j := range jobs {
		s.retain(ctx, j.ID, recs[j.ID], &res)
	}
	return res
}

func (s *Scheduler) jobs(ctx context.Context) ([]cluster.JobSummary, error) {
	all, err := s.C.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	var out []cluster.JobSummary
	if s.Jobs == nil {
		for _, j := range all {
			if j.Status == cluster.JobRunning {
				out = append(out, j)
			}
		}
		return out, nil
	}
	for _, id := range s.Jobs {
		found := false
		for _, j := range all {
			if j.ID == id {
				out, found = append(out, j), true
			}
		}
		if !found {
			return nil, cluster.JobNotFound(id)
		}
	}
	return out, nil
}

// take triggers a savepoint of j, waits for it and journals it.
func (s *Scheduler) take(ctx context.Context, j cluster.JobSummary) (Record, error) {
	wait := s.Wait
	if wait <= 0 {
		wait = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t, err := s.C.TriggerSavepoint(ctx, j.ID, cluster.SavepointRequest{TargetDir: s.Dir, Format: s.Format})
	if err != nil {
		return Record{}, err
	}
	op, err := cluster.Wait(ctx, s.C, t)
	if err != nil {
		return Record{}, err
	}
	if op.Failure != nil {
		return Record{}, op.Failure
	}
	rec := Record{JobID: j.ID, JobName: j.Name, URI: op.Location, Taken: s.now()}
	if err := appendJournal(s.Journal, rec); err != nil {
		// Not journaled means never disposed by us: say so, keep going.
		return rec, fmt.Errorf("savepoint %s taken, but the journal %s could not record it (it will never be removed by the scheduler): %w", rec.URI, s.Journal, err)
	}
	return rec, nil
}

// retain applies the policy to one job's journaled savepoints.
func (s *Scheduler) retain(ctx context.Context, jobID string, recs []Record, res *Result) {
	var sps []savepoints.Savepoint
	for _, r := range recs {
		sp, err := savepoints.Check(ctx, s.FS, r.URI)
		if err != nil {
			if gone(ctx, s.FS, r.URI) {
				continue // removed by someone else meanwhile
			}
			res.Errors = append(res.Errors, err)
			continue
		}
		sps = append(sps, sp)
	}
	savepoints.Sort(sps)
	plan := savepoints.Preview(sps, s.Policy, s.now())
	for _, d := range plan.Decisions {
		if !d.Remove {
			res.Kept[jobID] = append(res.Kept[jobID], d.URI)
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		disp, err := savepoints.Dispose(dctx, s.FS, cluster.SavepointDisposal(s.C), d.URI)
		cancel()
		if err != nil {
			res.Errors = append(res.Errors, err)
			s.logf("FAILED to dispose %s: %v", d.URI, err)
			res.Kept[jobID] = append(res.Kept[jobID], d.URI)
			continue
		}
		res.Disposed = append(res.Disposed, d.URI)
		_ = appendJournal(s.Journal, Record{JobID: jobID, URI: d.URI, Taken: s.now(), Disposed: true})
		s.logf("disposed %s (%s; via %s)", d.URI, d.Reason, disp.Via)
	}
}

func gone(ctx context.Context, fsys storage.FS, uri string) bool {
	_, err := fsys.Stat(ctx, uri)
	return storage.IsNotExist(err)
}

// Run runs a round every interval until ctx ends (the first at once).
func (s *Scheduler) Run(ctx context.Context, every time.Duration) error {
	for {
		s.Round(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// ReadJournal returns the journaled savepoints not disposed yet, per job,
// oldest first. A missing journal is empty.
func ReadJournal(path string) (map[string][]Record, error) {
	out := map[string][]Record{}
	all, _, err := statedir.ReadJSONL[Record](path)
	if err != nil {
		return nil, err
	}
	disposed := map[string]bool{}
	for _, r := range all {
		if r.Disposed {
			disposed[r.URI] = true
		}
	}
	for _, r := range all {
		if !r.Disposed && !disposed[r.URI] {
			out[r.JobID] = append(out[r.JobID], r)
		}
	}
	for _, rs := range out {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Taken.Before(rs[j].Taken) })
	}
	return out, nil
}

func appendJournal(path string, r Record) error {
	if path == "" {
		return errors.New("no journal file")
	}
	return statedir.AppendJSONL(path, r)
}
