package upgrade

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/ckpt-dev/ckpt/internal/statedir"
)

// The journal is one JSON line per step taken, appended (and synced)
// before and after each step that changes the cluster, so a rerun after a
// crash of ckpt knows what happened: a stop is journaled with its trigger
// ID before it is sent (re-polled, never re-taken), a submission with the
// job ID it pins before it is sent (looked up, never sent twice). A
// "begin" line starts an attempt; an "end" line finishes it.

// Journal steps.
const (
	recBegin           = "begin"
	recPreflight       = "preflight"
	recStopRequested   = "stop-requested"
	recStopped         = "stopped"
	recDryRun          = "dry-run"
	recUploaded        = "uploaded"
	recSubmitRequested = "submit-requested"
	recSubmitted       = "submitted"
	recWatched         = "watched"
	recRollback        = "rollback"
	recCancelRequested = "cancel-requested"
	recEnd             = "end"
)

// Roles of a program in the journal: the new one, or the old one a
// rollback resubmits.
const (
	roleNew = "new"
	roleOld = "old"
)

// Record is one journal line.
type Record struct {
	Step string    `json:"step"`
	At   time.Time `json:"at"`
	// begin
	JobID   string   `json:"job_id,omitempty"`
	Target  string   `json:"target,omitempty"`
	New     *Program `json:"new,omitempty"`
	Old     *Program `json:"old,omitempty"`
	Request *Request `json:"request,omitempty"`
	// stop-requested / stopped
	Trigger   string `json:"trigger,omitempty"`
	Savepoint string `json:"savepoint,omitempty"`
	// preflight, dry-run
	DryRun *DryRun `json:"dry_run,omitempty"`
	// uploaded, submit-requested, submitted, cancel-requested
	Role     string `json:"role,omitempty"`
	Artifact string `json:"artifact,omitempty"`
	Job      string `json:"job,omitempty"`
	// watched, rollback, end
	OK      bool    `json:"ok,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	Outcome Outcome `json:"outcome,omitempty"`
}

// Request is what an upgrade was asked to do, journaled so a resume does
// the same.
type Request struct {
	SavepointDir     string        `json:"savepoint_dir,omitempty"`
	Format           string        `json:"format,omitempty"`
	AllowNonRestored bool          `json:"allow_non_restored,omitempty"`
	Checkpoints      int           `json:"checkpoints"`
	Timeout          time.Duration `json:"timeout"`
}

// state is an attempt as its journal lines tell it.
type state struct {
	begin       *Record
	preflight   *DryRun
	stopTrigger string
	savepoint   string
	dryRun      *DryRun
	artifact    map[string]string // role → uploaded artifact
	requested   map[string]string // role → pinned job ID sent (or about to be)
	submitted   map[string]string // role → job ID known to run
	watched     *Record
	rollback    *Record
	cancelAsked string
	end         *Record
}

func newState() *state {
	return &state{artifact: map[string]string{}, requested: map[string]string{}, submitted: map[string]string{}}
}

// fold reads the records of the last attempt.
func fold(recs []Record) *state {
	var st *state
	for i := range recs {
		r := &recs[i]
		if r.Step == recBegin {
			st = newState()
			st.begin = r
			continue
		}
		if st == nil {
			continue // lines before any begin: not ours to interpret
		}
		switch r.Step {
		case recPreflight:
			st.preflight = r.DryRun
		case recStopRequested:
			st.stopTrigger = r.Trigger
		case recStopped:
			st.savepoint = r.Savepoint
		case recDryRun:
			st.dryRun = r.DryRun
		case recUploaded:
			st.artifact[r.Role] = r.Artifact
		case recSubmitRequested:
			st.requested[r.Role] = r.Job
		case recSubmitted:
			st.submitted[r.Role] = r.Job
		case recWatched:
			if r.Role == roleNew || r.Role == "" {
				st.watched = r
			}
		case recRollback:
			st.rollback = r
		case recCancelRequested:
			st.cancelAsked = r.Job
		case recEnd:
			st.end = r
		}
	}
	return st
}

// ReadJournal reads a journal's records, oldest first; a missing journal
// has none.
func ReadJournal(path string) ([]Record, error) {
	out, _, err := statedir.ReadJSONL[Record](path)
	if err != nil {
		return nil, fmt.Errorf("upgrade journal %w", err)
	}
	return out, nil
}

// JournalPath is the journal of upgrades of jobID on target, in ckpt's
// state directory: upgrade/<target>/<job-id>.jsonl.
func JournalPath(target, jobID string) (string, error) {
	if target == "" {
		target = "target"
	}
	return statedir.Path(nil, "upgrade", statedir.SafeName(target), statedir.SafeName(jobID)+".jsonl")
}

// Pending is the unfinished upgrade recorded in the journal at path: its
// begin line (job, programs, request), or nil when the last attempt ended
// or there is none.
func Pending(path string) (*Record, error) {
	recs, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	st := fold(recs)
	if st == nil || st.end != nil {
		return nil, nil
	}
	return st.begin, nil
}

// Last is the last attempt's end line, or nil when it has not ended (or
// there is none).
func Last(path string) (*Record, error) {
	recs, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	st := fold(recs)
	if st == nil {
		return nil, nil
	}
	return st.end, nil
}

// Known is the program that an upgrade journaled in dir (the target's
// journal directory, filepath.Dir of JournalPath) left running as jobID:
// the new program of an upgrade that succeeded, the old one of a rollback,
// with the jar it uploaded. It is how ckpt knows which jar a Flink job
// runs, which Flink's REST API does not say; nil when no journal there
// started jobID.
func Known(dir, jobID string) *Program {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, f := range files {
		recs, err := ReadJournal(f)
		if err != nil {
			continue
		}
		var begin *Record
		arts := map[string]string{}
		for i := range recs {
			r := &recs[i]
			switch r.Step {
			case recBegin:
				begin, arts = r, map[string]string{}
			case recUploaded:
				arts[r.Role] = r.Artifact
			case recEnd:
				if begin == nil || r.Job != jobID {
					continue
				}
				var p *Program
				role := roleNew
				switch r.Outcome {
				case Upgraded:
					p = begin.New
				case RolledBack:
					p, role = begin.Old, roleOld
				}
				if p == nil {
					continue
				}
				cp := *p
				if a := arts[role]; a != "" && cp.Kind == JarProgram {
					cp.JarID = a
				}
				return &cp
			}
		}
	}
	return nil
}
