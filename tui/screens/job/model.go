package job

import (
	"context"
	"errors"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/actions"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/poll"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// poll reads the job, its checkpoint statistics and, for the newest
// in-progress checkpoint, which subtasks have not acknowledged — the cheap
// endpoints Flink's UI polls too — in one quiet task.
func (s *jobModel) poll() tea.Cmd {
	c, jobID := s.ctx.Cluster, s.jobID
	needCfg, needConf := s.cfg == nil && !s.cfgOff, s.conf == nil
	// Flink refreshes the metrics behind backpressure every 10 s
	// (metrics.fetcher.update-interval): asking every poll only adds load.
	needBP := s.bpAt.IsZero() || s.ctx.Now().Sub(s.bpAt) >= backpressureEvery
	return poll.Start(s.ctx, &s.Poller, s.id, "polling job "+format.ShortID(jobID), func(ctx context.Context) (jobPolledMsg, error) {
		m := pollJob(ctx, c, jobID, needCfg, needConf, needBP)
		return m, m.err
	})
}

// jobCheckpointDir is where the job's chk-N dirs live: as the target
// reports it (ckpt's engine does), else the parent of a completed
// checkpoint's external path, else the configured checkpoint dir with the
// job ID.
func (s *jobModel) jobCheckpointDir() string {
	if s.cfg != nil && s.cfg.CheckpointDir != "" {
		return s.cfg.CheckpointDir
	}
	if s.stats != nil {
		cands := []*cluster.Checkpoint{s.stats.LatestCompleted}
		for i := range s.stats.History {
			cands = append(cands, &s.stats.History[i])
		}
		for _, c := range cands {
			if c == nil || c.Savepoint || c.ExternalPath == "" || c.Status != cluster.CheckpointCompleted {
				continue
			}
			p := strings.TrimRight(c.ExternalPath, "/")
			if storage.Base(p) == "_metadata" {
				p = storage.Dir(p)
			}
			return storage.Dir(p)
		}
	}
	for _, k := range []string{"execution.checkpointing.dir", "state.checkpoints.dir"} {
		if d := s.conf[k]; d != "" {
			return storage.Join(d, s.jobID)
		}
	}
	return ""
}

// savepointPaths are the savepoints the target and this session know of
// for the job.
func (s *jobModel) savepointPaths() map[string]int64 {
	out := map[string]int64{}
	if s.stats != nil {
		cands := []*cluster.Checkpoint{s.stats.LatestSavepoint}
		for i := range s.stats.History {
			cands = append(cands, &s.stats.History[i])
		}
		for _, c := range cands {
			if c != nil && c.Savepoint && c.Status == cluster.CheckpointCompleted && c.ExternalPath != "" {
				out[c.ExternalPath] = c.ID
			}
		}
		if r := s.stats.LatestRestored; r != nil && r.Savepoint && r.ExternalPath != "" {
			out[r.ExternalPath] = r.ID
		}
	}
	for _, sp := range s.ctx.Savepoints() {
		if sp.JobID == s.jobID {
			if _, ok := out[sp.Path]; !ok {
				out[sp.Path] = -1
			}
		}
	}
	return out
}

func (s *jobModel) jobName() string {
	if s.job != nil && s.job.Name != "" {
		return text.Sanitize(s.job.Name)
	}
	return format.ShortID(s.jobID)
}

func (s *jobModel) latest() *cluster.Checkpoint {
	if s.stats == nil {
		return nil
	}
	return s.stats.LatestCompleted
}

// defaultSavepointDir pre-fills the savepoint and stop prompts: the
// cluster's savepoint dir (either key, from /jobmanager/config), else ""
// — then the prompt requires one, since Flink refuses a savepoint without
// a target when no default is configured.
func (s *jobModel) defaultSavepointDir() string {
	for _, k := range actions.SavepointDirKeys {
		if d := s.conf[k]; d != "" {
			return d
		}
	}
	return ""
}

// suggestedSavepointDir pre-fills the prompts when the cluster has no
// default: "savepoints" next to the checkpoint root, shown as a suggestion
// the operator confirms or edits ("" when the checkpoint dir is unknown
// too: then the prompt is empty and required).
func (s *jobModel) suggestedSavepointDir() string {
	if d := s.defaultSavepointDir(); d != "" {
		return d
	}
	if d := s.jobCheckpointDir(); d != "" {
		return storage.Join(storage.Dir(d), "..", "savepoints")
	}
	return ""
}

// savepointFormHint is the prompts' bottom line: what enter does, and
// that the dir is only a suggestion when the cluster configures none.
func (s *jobModel) savepointFormHint(action string) string {
	if s.defaultSavepointDir() == "" {
		return "no default savepoint dir on the cluster (execution.checkpointing.savepoint-dir / state.savepoints.dir): the target dir is required — " + action
	}
	return action
}

// savepointDirHint is the target dir field's placeholder.
func (s *jobModel) savepointDirHint() string {
	if s.defaultSavepointDir() == "" {
		return noSavepointDir
	}
	return "dir (savepoint-<job6>-<random12>/ goes inside)"
}

// opTimeout bounds waiting for a savepoint or checkpoint: the job's
// checkpoint timeout plus a minute, at least 10 minutes (a fixed short
// timeout gives up on large state).
func (s *jobModel) opTimeout() time.Duration {
	d := 10 * time.Minute
	if s.cfg != nil && s.cfg.Timeout+time.Minute > d {
		d = s.cfg.Timeout + time.Minute
	}
	return d
}

// claimMode is the claim mode the job restored with, and where that comes
// from. Flink's REST API does not report a job's claim mode, and an
// application-mode submission can drop the one asked for (FLINK-40559), so
// the best evidence comes first: what this session submitted, then the
// job's own spec (ckpt), then the cluster's configuration, else Flink's
// default.
func (s *jobModel) claimMode() (mode, source string) {
	if m := s.ctx.ClaimOf(s.jobID); m != "" {
		return m, "as this session submitted it"
	}
	if p := s.job; p != nil && p.Program != nil {
		if m := specSetting(p.Program.Spec, claimModeKeys); m != "" {
			return strings.ToUpper(m), "from the job's spec"
		}
	}
	for _, k := range claimModeKeys {
		if m := s.conf[k]; m != "" {
			return strings.ToUpper(m), "the cluster's " + k
		}
	}
	return cluster.NoClaim, "Flink's default: nothing asked for another, and the REST API does not report it"
}

// jobPolledMsg is what one poll of the job brings.
type jobPolledMsg struct {
	job      *cluster.Job
	stats    *cluster.CheckpointStats
	cfg      *cluster.CheckpointConfig
	cfgOff   bool
	conf     map[string]string
	exc      *cluster.Exceptions
	inflight *cluster.Checkpoint
	pending  map[string]*cluster.VertexCheckpoint
	// backpressure is Flink's per-vertex figure, for vertices whose job
	// detail does not carry it (REST targets); none for an ended job.
	backpressure map[string]*cluster.Backpressure
	bpAsked      bool // backpressure was asked for (not every poll asks)
	err          error
}

// backpressureEvery is how often the per-vertex backpressure is asked for.
const backpressureEvery = 5 * time.Second

// maxPendingVertices bounds the per-subtask calls of one poll.
const maxPendingVertices = 8

func pollJob(ctx context.Context, c cluster.Cluster, jobID string, needCfg, needConf, needBP bool) (m jobPolledMsg) {
	if m.job, m.err = c.Job(ctx, jobID); m.err != nil {
		return m
	}
	if m.stats, m.err = c.Checkpoints(ctx, jobID); m.err != nil {
		return m
	}
	if needCfg {
		cfg, err := c.CheckpointConfig(ctx, jobID)
		switch {
		case errors.Is(err, cluster.ErrNotFound):
			m.cfgOff = true
		case err == nil:
			m.cfg = cfg
		}
	}
	if needConf {
		m.conf, _ = c.Configuration(ctx)
	}
	m.exc, _ = c.Exceptions(ctx, jobID)
	if needBP {
		m.bpAsked, m.backpressure = true, pollBackpressure(ctx, c, m.job)
	}
	if ip := newestInProgress(m.stats); ip != nil {
		d, err := c.CheckpointDetail(ctx, jobID, ip.ID)
		if err == nil {
			m.inflight = d
			m.pending = map[string]*cluster.VertexCheckpoint{}
			for _, vid := range format.SortedKeys(d.Tasks) {
				t := d.Tasks[vid]
				if t.NumAcked >= t.NumSubtasks || len(m.pending) >= maxPendingVertices {
					continue
				}
				if vc, err := c.CheckpointSubtasks(ctx, jobID, ip.ID, vid); err == nil {
					m.pending[vid] = vc
				}
			}
		}
	}
	return m
}

func newestInProgress(st *cluster.CheckpointStats) *cluster.Checkpoint {
	if st == nil {
		return nil
	}
	var best *cluster.Checkpoint
	for i := range st.History {
		c := &st.History[i]
		if c.Status == cluster.CheckpointInProgress && (best == nil || c.ID > best.ID) {
			best = c
		}
	}
	return best
}

// maxBackpressureVertices bounds the backpressure calls of one poll.
const maxBackpressureVertices = 32

// pollBackpressure asks the target for the backpressure of each vertex
// whose job detail does not say (Flink's job detail does not; ckpt's
// engine does), while the job runs: an ended job has none.
func pollBackpressure(ctx context.Context, c cluster.Cluster, j *cluster.Job) map[string]*cluster.Backpressure {
	if j == nil || j.Status.Terminal() {
		return nil
	}
	out := map[string]*cluster.Backpressure{}
	for i, v := range j.Vertices {
		if i == maxBackpressureVertices {
			break
		}
		if v.Metrics.BackpressureLevel != "" {
			continue
		}
		bp, err := cluster.VertexBackpressure(ctx, c, j.ID, v.ID)
		if errors.Is(err, cluster.ErrNotSupported) {
			break
		}
		if err == nil {
			out[v.ID] = bp
		}
	}
	return out
}
