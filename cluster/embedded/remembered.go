package embedded

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
)

// Jobs of earlier processes, from the engine's catalog (Options.Catalog):
// what a restarted `ckpt serve` still knows about them — status, times,
// the latest checkpoint, the savepoints, where they were restored from,
// the failure — so `ckpt list -a` and the job's checkpoint statistics show
// where to resume from after a restart or a crash. A job whose record
// says it was still running when its process ended is SUSPENDED, Flink's
// status for a job whose JobManager went away with its checkpoints kept.
// They can be read, not operated on.

// loadRemembered reads the catalog's jobs.
func (c *Cluster) loadRemembered() error {
	jobs, err := c.opts.Catalog.List()
	if err != nil {
		return err
	}
	for _, r := range jobs {
		if cluster.IsJobID(r.ID) {
			c.remembered[strings.ToLower(r.ID)] = r
		}
	}
	return nil
}

// rememberedStatus is the status a remembered job is shown with.
func rememberedStatus(r catalog.Job) cluster.JobStatus {
	s := cluster.JobStatus(r.Status)
	if s.Terminal() {
		return s
	}
	return cluster.JobSuspended
}

func (c *Cluster) rememberedJob(id string) (catalog.Job, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.remembered[strings.ToLower(id)]
	return r, ok
}

// rememberedSummaries lists the remembered jobs not running here, oldest first.
func (c *Cluster) rememberedSummaries() []cluster.JobSummary {
	c.mu.Lock()
	var rs []catalog.Job
	for id, r := range c.remembered {
		if c.jobs[id] == nil {
			rs = append(rs, r)
		}
	}
	c.mu.Unlock()
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
	out := make([]cluster.JobSummary, 0, len(rs))
	for _, r := range rs {
		d := rememberedDetail(r)
		s := cluster.JobSummary{ID: d.ID, Name: d.Name, Status: d.Status, Start: d.Start, End: d.End, Duration: d.Duration,
			LastModification: d.End, Tasks: map[string]int{}}
		for _, v := range d.Vertices {
			for k, n := range v.Tasks {
				s.Tasks[k] += n
			}
			s.Tasks["TOTAL"] += v.Parallelism
		}
		out = append(out, s)
	}
	return out
}

// rememberedDetail is a remembered job's detail: its vertices rebuilt from
// the job spec it ran (when the record has it).
func rememberedDetail(r catalog.Job) *cluster.Job {
	st := rememberedStatus(r)
	d := &cluster.Job{ID: r.ID, Name: r.Name, Status: st, Type: "STREAMING", Start: r.Start, End: r.End, Now: time.Now(),
		MaxParallelism: -1, Timestamps: map[cluster.JobStatus]time.Time{cluster.JobInitializing: r.Start},
		StatusCounts: map[string]int{}}
	if d.End.IsZero() {
		d.End = r.Start // unknown: when the earlier process ended
	}
	d.Timestamps[st] = d.End
	d.Duration = d.End.Sub(d.Start)
	if r.Spec == "" {
		return d
	}
	d.Program = &cluster.Program{Name: r.Name + ".yaml", Spec: r.Spec}
	s, err := spec.Parse(r.Name+".yaml", []byte(r.Spec))
	if err != nil {
		return d
	}
	// The job's own settings (its record keeps what was set explicitly)
	// decide parallelism and max parallelism, hence the chains.
	over := config.New()
	for k, v := range r.Config {
		over.Set(k, v, "catalog")
	}
	_, g, err := s.Prepare(nil, over)
	if err != nil {
		return d
	}
	tstate := taskState(st)
	if st == cluster.JobSuspended {
		tstate = cluster.TaskCanceled
	}
	for _, ch := range chainsOf(g) {
		v := cluster.Vertex{ID: ch.id, Name: ch.name, Parallelism: ch.parallelism, MaxParallelism: ch.maxP, Status: tstate,
			Start: d.Start, End: d.End, Duration: d.Duration, Tasks: map[string]int{tstate: ch.parallelism}}
		for _, op := range ch.ops {
			v.Operators = append(v.Operators, cluster.Operator{ID: op.ID.String(), UID: op.UID, Name: op.Name})
		}
		d.Vertices = append(d.Vertices, v)
		d.StatusCounts[tstate]++
	}
	return d
}

// rememberedStats are what the catalog knows of a remembered job's
// snapshots: the latest checkpoint, the latest savepoint and the restore.
func rememberedStats(r catalog.Job) *cluster.CheckpointStats {
	s := &cluster.CheckpointStats{}
	none := (&summary{}).stat()
	s.Summary = cluster.CheckpointSummary{CheckpointedSize: none, StateSize: none, EndToEndDuration: none,
		AlignmentBuffered: none, ProcessedData: none, PersistedData: none}
	if r.LatestCheckpoint != "" {
		s.LatestCompleted = &cluster.Checkpoint{ID: r.LatestCheckpointID, Status: cluster.CheckpointCompleted,
			Type: cluster.TypeCheckpoint, ExternalPath: r.LatestCheckpoint, Discarded: r.LatestCheckpointDiscarded}
		s.Counts.Completed, s.Counts.Total = 1, 1
	}
	if n := len(r.Savepoints); n > 0 {
		s.LatestSavepoint = &cluster.Checkpoint{Status: cluster.CheckpointCompleted, Savepoint: true,
			Type: cluster.TypeSavepoint, ExternalPath: r.Savepoints[n-1]}
	}
	if r.RestoredFrom != "" {
		s.LatestRestored = &cluster.RestoredCheckpoint{RestoreTime: r.Start, ExternalPath: r.RestoredFrom}
		s.Counts.Restored = 1
	}
	return s
}

func rememberedExceptions(r catalog.Job) *cluster.Exceptions {
	x := &cluster.Exceptions{}
	if r.Failure != "" {
		x.Entries = append(x.Entries, exception(r.Failure, r.End))
	}
	return x
}

// rememberedFor returns the remembered job when err says that id is not a
// job of this process.
func (c *Cluster) rememberedFor(id string, err error) (catalog.Job, bool) {
	if !errors.Is(err, cluster.ErrNotFound) {
		return catalog.Job{}, false
	}
	return c.rememberedJob(id)
}

// notRunningHere is the error for an operation on a remembered job.
func notRunningHere(r catalog.Job) error {
	return cluster.Errorf(cluster.ErrConflict, "job %s ran in an earlier ckpt process and is %s; resume it from its latest checkpoint or savepoint instead",
		r.ID, rememberedStatus(r))
}
