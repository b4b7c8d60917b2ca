// Package health judges a running job's checkpointing the way a monitoring
// check does (Nagios' OK / WARNING / CRITICAL / UNKNOWN): no completed
// checkpoint for too long, consecutive failures, checkpoint durations
// approaching the timeout, state growing faster than expected, restarts.
// It only reads: the cluster's statistics, the job's exceptions, and the
// history ckpt keeps of the target (cluster/history), because Flink keeps
// only the last few checkpoints in memory.
package health

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/internal/units"
)

// Status is a check's verdict; the values are Nagios' exit codes.
type Status int

const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// Worse returns the more severe of two statuses (Unknown ranks between
// Warning and Critical, as monitoring systems sort them: a check that
// could not run is worse than a warning, not as bad as a failure).
func Worse(a, b Status) Status {
	rank := map[Status]int{OK: 0, Warning: 1, Unknown: 2, Critical: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Thresholds say when a check fires. Zero values take the defaults.
type Thresholds struct {
	// MaxAge: CRITICAL when the newest completed checkpoint is older (or,
	// with none, the job has run longer). Default: 3 × the checkpoint
	// interval, at least one minute.
	MaxAge time.Duration
	// MaxFailures: consecutive failed checkpoints (newest first until a
	// completed one): WARNING from 1, CRITICAL from MaxFailures (default 3).
	MaxFailures int
	// DurationWarn and DurationCrit are fractions of the checkpoint timeout
	// the recent end-to-end durations (their median) may reach (default
	// 0.5 and 0.9).
	DurationWarn, DurationCrit float64
	// MaxGrowth is bytes per hour the full state size may grow (0: not
	// checked); WARNING beyond it.
	MaxGrowth int64
	// RestartWindow is how far back failures count (default 1 h);
	// MaxRestarts within it make it CRITICAL (default 3), fewer than that
	// but at least one WARNING.
	RestartWindow time.Duration
	MaxRestarts   int
}

func (t Thresholds) withDefaults(interval time.Duration) Thresholds {
	if t.MaxAge <= 0 {
		t.MaxAge = max(3*interval, time.Minute)
	}
	if t.MaxFailures <= 0 {
		t.MaxFailures = 3
	}
	if t.DurationWarn <= 0 {
		t.DurationWarn = 0.5
	}
	if t.DurationCrit <= 0 {
		t.DurationCrit = 0.9
	}
	if t.RestartWindow <= 0 {
		t.RestartWindow = time.Hour
	}
	if t.MaxRestarts <= 0 {
		t.MaxRestarts = 3
	}
	return t
}

// Finding is one check's result.
type Finding struct {
	Check  string // last_checkpoint, failures, duration, growth, restarts, state
	Status Status
	// Reason is a short sentence ("no completed checkpoint for 12m (max 5m)").
	Reason string
	// Value is the measured figure (seconds, a count, a ratio, bytes/hour);
	// Warn and Crit the thresholds (0: none), for performance data.
	Value, Warn, Crit float64
	Unit              string // "s", "", "B/h"
}

// Report is the health of one job.
type Report struct {
	JobID, Name string
	JobStatus   cluster.JobStatus
	Status      Status
	Findings    []Finding
}

// Input is what a judgement needs; Assess gathers it from a cluster.
type Input struct {
	Job        *cluster.Job
	Stats      *cluster.CheckpointStats
	Config     *cluster.CheckpointConfig
	Exceptions *cluster.Exceptions
	// Remembered is ckpt's history of the job (newest first), merged with
	// the cluster's own for trends.
	Remembered []cluster.Checkpoint
	Now        time.Time
}

// Assess reads what the checks need from c and judges job jobID.
// remembered is ckpt's history of it (may be nil).
func Assess(ctx context.Context, c cluster.Cluster, jobID string, th Thresholds, remembered []cluster.Checkpoint, now time.Time) Report {
	in := Input{Remembered: remembered, Now: now}
	var err error
	if in.Job, err = c.Job(ctx, jobID); err != nil {
		return Report{JobID: jobID, Status: Unknown, Findings: []Finding{{Check: "state", Status: Unknown, Reason: err.Error()}}}
	}
	if in.Stats, err = c.Checkpoints(ctx, jobID); err != nil {
		return Report{JobID: jobID, Name: in.Job.Name, JobStatus: in.Job.Status, Status: Unknown,
			Findings: []Finding{{Check: "last_checkpoint", Status: Unknown, Reason: "checkpoint statistics: " + err.Error()}}}
	}
	in.Config, _ = c.CheckpointConfig(ctx, jobID) // not every target reports it
	in.Exceptions, _ = c.Exceptions(ctx, jobID)
	return Judge(in, th)
}

// Judge applies the checks to what was gathered.
func Judge(in Input, th Thresholds) Report {
	j := in.Job
	r := Report{JobID: j.ID, Name: j.Name, JobStatus: j.Status}
	var interval, timeout time.Duration
	if in.Config != nil {
		interval, timeout = in.Config.Interval, in.Config.Timeout
	}
	th = th.withDefaults(interval)
	add := func(f Finding) {
		r.Findings = append(r.Findings, f)
		r.Status = Worse(r.Status, f.Status)
	}

	switch {
	case j.Status == cluster.JobRunning:
	case j.Status.Terminal():
		add(Finding{Check: "state", Status: Critical, Reason: "job is " + string(j.Status) + ", not running"})
		return r
	case j.Status == cluster.JobRestarting || j.Status == cluster.JobFailing:
		add(Finding{Check: "state", Status: Critical, Reason: "job is " + string(j.Status)})
	default:
		add(Finding{Check: "state", Status: Warning, Reason: "job is " + string(j.Status)})
	}

	st := in.Stats
	if interval <= 0 && in.Config != nil {
		add(Finding{Check: "last_checkpoint", Status: Warning, Reason: "checkpointing is disabled"})
	} else {
		// Age of the newest completed checkpoint; without one, how long
		// the job has run.
		var since time.Time
		what := "no completed checkpoint since the job started"
		if st.LatestCompleted != nil {
			since = st.LatestCompleted.LatestAck
			if since.IsZero() {
				since = st.LatestCompleted.TriggerTime
			}
			what = fmt.Sprintf("last completed checkpoint %d", st.LatestCompleted.ID)
		} else if t, ok := j.Timestamps[cluster.JobRunning]; ok && !t.IsZero() {
			since = t
		} else {
			since = j.Start
		}
		age := in.Now.Sub(since)
		f := Finding{Check: "last_checkpoint", Value: age.Seconds(), Crit: th.MaxAge.Seconds(), Unit: "s"}
		if since.IsZero() {
			f.Status, f.Reason = Unknown, "no checkpoint and no start time reported"
		} else if age > th.MaxAge {
			f.Status = Critical
			f.Reason = fmt.Sprintf("%s %s ago (max %s)", what, round(age), round(th.MaxAge))
			if st.LatestCompleted == nil {
				f.Reason = fmt.Sprintf("%s, %s ago (max %s)", what, round(age), round(th.MaxAge))
			}
		} else {
			f.Reason = fmt.Sprintf("%s %s ago", what, round(age))
		}
		add(f)
	}

	// Consecutive failures, newest first, from the cluster's history and
	// ckpt's (a JobManager that restarted has forgotten its own).
	hist := merge(st.History, in.Remembered)
	fails := 0
	var lastFailure string
	for _, c := range hist {
		if c.Status == cluster.CheckpointInProgress || c.Savepoint {
			continue
		}
		if c.Status != cluster.CheckpointFailed {
			break
		}
		if fails == 0 {
			lastFailure = c.FailureMessage
		}
		fails++
	}
	f := Finding{Check: "failures", Value: float64(fails), Warn: 1, Crit: float64(th.MaxFailures)}
	switch {
	case fails >= th.MaxFailures:
		f.Status = Critical
	case fails > 0:
		f.Status = Warning
	}
	if fails > 0 {
		f.Reason = fmt.Sprintf("%d consecutive failed checkpoint%s", fails, plural(fails))
		if lastFailure != "" {
			f.Reason += ": " + firstLine(lastFailure)
		}
	} else {
		f.Reason = "no failed checkpoint since the last completed one"
	}
	add(f)

	// Duration against the timeout: the median of the recent completed
	// checkpoints, so one slow checkpoint does not page anyone.
	if timeout > 0 {
		var ds []time.Duration
		for _, c := range hist {
			if c.Status == cluster.CheckpointCompleted && c.EndToEnd > 0 {
				ds = append(ds, c.EndToEnd)
				if len(ds) == 5 {
					break
				}
			}
		}
		if len(ds) > 0 {
			sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
			med := ds[len(ds)/2]
			ratio := float64(med) / float64(timeout)
			f := Finding{Check: "duration", Value: ratio, Warn: th.DurationWarn, Crit: th.DurationCrit,
				Reason: fmt.Sprintf("checkpoints take %s (median of %d), %.0f%% of the %s timeout", round(med), len(ds), 100*ratio, round(timeout))}
			switch {
			case ratio >= th.DurationCrit:
				f.Status = Critical
			case ratio >= th.DurationWarn:
				f.Status = Warning
			}
			add(f)
		}
	}

	// State growth per hour, from the oldest to the newest completed
	// checkpoint ckpt knows of (at least ten minutes apart).
	if th.MaxGrowth > 0 {
		var first, last *cluster.Checkpoint
		for i := range hist {
			c := &hist[i]
			if c.Status != cluster.CheckpointCompleted || c.Savepoint {
				continue
			}
			if last == nil {
				last = c
			}
			first = c
		}
		f := Finding{Check: "growth", Unit: "B/h", Warn: float64(th.MaxGrowth)}
		if first != nil && last != nil && last.TriggerTime.Sub(first.TriggerTime) >= 10*time.Minute {
			span := last.TriggerTime.Sub(first.TriggerTime)
			rate := float64(last.StateSize-first.StateSize) / span.Hours()
			f.Value = rate
			f.Reason = fmt.Sprintf("state grows %s/h over %s (max %s/h)", units.SignedBytes(int64(rate)), round(span), units.Bytes(th.MaxGrowth))
			if rate > float64(th.MaxGrowth) {
				f.Status = Warning
			}
		} else {
			f.Reason = "not enough history for a trend yet (needs completed checkpoints 10 minutes apart)"
		}
		add(f)
	}

	// Restarts: failures in the job's exception history within the window.
	if in.Exceptions != nil {
		n := 0
		for _, e := range in.Exceptions.Entries {
			if !e.Time.IsZero() && in.Now.Sub(e.Time) <= th.RestartWindow {
				n++
			}
		}
		f := Finding{Check: "restarts", Value: float64(n), Warn: 1, Crit: float64(th.MaxRestarts),
			Reason: fmt.Sprintf("%d failure%s in the last %s", n, plural(n), round(th.RestartWindow))}
		switch {
		case n >= th.MaxRestarts:
			f.Status = Critical
		case n > 0:
			f.Status = Warning
		}
		if n > 0 && len(in.Exceptions.Entries) > 0 {
			f.Reason += ": " + firstLine(in.Exceptions.Entries[0].Name)
		}
		add(f)
	}
	return r
}

// merge joins the cluster's history with ckpt's remembered one, newest
// first, the cluster's entry winning for an ID both have.
func merge(live, remembered []cluster.Checkpoint) []cluster.Checkpoint {
	seen := map[int64]bool{}
	out := make([]cluster.Checkpoint, 0, len(live)+len(remembered))
	for _, c := range live {
		seen[c.ID] = true
		out = append(out, c)
	}
	for _, c := range remembered {
		if !seen[c.ID] {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}

// Line is the Nagios one-line summary: the status, the job, the reasons of
// the findings that fired (or the first one's when all are fine).
func (r Report) Line() string {
	var reasons []string
	for _, f := range r.Findings {
		if f.Status != OK {
			reasons = append(reasons, f.Reason)
		}
	}
	if len(reasons) == 0 {
		for _, f := range r.Findings {
			if f.Check == "last_checkpoint" {
				reasons = append(reasons, f.Reason)
			}
		}
	}
	name := r.Name
	if name == "" {
		name = r.JobID
	}
	short := r.JobID
	if len(short) > 8 {
		short = short[:8]
	}
	return fmt.Sprintf("%s - %s (%s): %s", r.Status, name, short, strings.Join(reasons, "; "))
}

// PerfData is the Nagios performance data of the findings with a value.
func (r Report) PerfData() string {
	var parts []string
	for _, f := range r.Findings {
		if f.Check == "state" {
			continue
		}
		v := fmt.Sprintf("%s=%s%s;%s;%s", f.Check, num(f.Value), f.Unit, num0(f.Warn), num0(f.Crit))
		parts = append(parts, v)
	}
	return strings.Join(parts, " ")
}

func num(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func num0(v float64) string {
	if v == 0 {
		return ""
	}
	return num(v)
}

func round(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
