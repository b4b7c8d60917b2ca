package inspector

import (
	"fmt"
	"sort"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// TargetOperator is one operator of the job a snapshot would be resumed
// into.
type TargetOperator struct {
	UID  string
	Name string
	// ID is the operator's ID when known (a job graph computed it, or a
	// literal setUidHash); zero means "derive it from UID".
	ID snapshot.OperatorID
	// Parallelism of the new job's operator; 0 = unknown.
	Parallelism int
	// MaxParallelism of the new job's operator; 0 = unknown (Flink then
	// derives it and can adopt the snapshot's).
	MaxParallelism int
	// MaxParallelismConfigured: set explicitly (on the operator or for the
	// whole job). Flink can only adopt the snapshot's max parallelism when
	// it was not.
	MaxParallelismConfigured bool
}

// Target is the job a snapshot would be resumed into.
type Target struct {
	// Source names where the operators came from ("--uids", a file, a job spec).
	Source    string
	Operators []TargetOperator
	// Complete: Operators is the whole job with every ID known (a job
	// graph). With a plain uid list, IDs of operators without uid are
	// unknown, so the plan says so instead of guessing.
	Complete bool
}

// TargetFromUIDs is a target whose operators are known only by uid (or
// literal IDs, see HashPrefix).
func TargetFromUIDs(source string, uids []string) (Target, error) {
	t := Target{Source: source}
	seen := map[snapshot.OperatorID]string{}
	for _, u := range uids {
		e, err := parseEntry(u)
		if err != nil {
			return t, err
		}
		if prev, ok := seen[e.ID]; ok {
			if prev != e.UID {
				return t, fmt.Errorf("uids %q and %q map to the same operator ID %s (Flink refuses such a job)", prev, e.UID, e.ID)
			}
			continue
		}
		seen[e.ID] = e.UID
		t.Operators = append(t.Operators, TargetOperator{UID: e.UID, ID: e.ID})
	}
	return t, nil
}

func (o TargetOperator) id() snapshot.OperatorID {
	if !o.ID.IsZero() {
		return o.ID
	}
	return snapshot.OperatorIDFromUID(o.UID)
}

// Outcome is what Flink does when asked to resume.
type Outcome string

const (
	OutcomeRestores Outcome = "restores"
	OutcomeFails    Outcome = "fails"
)

// Exit codes of `ckpt inspect --against` (documented in the README).
const (
	ExitResumeOK        = 0 // every piece of state finds its operator
	ExitResumeDropState = 3 // state has no operator: fails without -n, lost with -n
	ExitResumeFails     = 4 // Flink refuses the restore even with -n
)

// ResumePlan is the dry run of resuming a snapshot into a target job.
type ResumePlan struct {
	Target string `json:"target"`
	// Restored: snapshot operators that map to an operator of the new job.
	Restored []PlanOperator `json:"restored"`
	// Dropped: snapshot operators WITH state and no operator in the new
	// job. Flink refuses to start without allow-non-restored-state; with it,
	// this state is lost.
	Dropped []PlanOperator `json:"dropped"`
	// SkippedEmpty: snapshot operators without state and without an
	// operator in the new job; Flink skips them silently.
	SkippedEmpty []PlanOperator `json:"skipped_empty"`
	// New: operators of the new job with no state in the snapshot; they
	// start empty.
	New []PlanOperator `json:"new"`
	// Failures make the restore fail whatever the flags.
	Failures []PlanFailure `json:"failures"`
	// DroppedBytes is the state size that would be lost.
	DroppedBytes int64 `json:"dropped_bytes"`
	// Uncertain: the plan could not know some operator IDs (operators
	// without uid and a target given as a uid list).
	Uncertain bool `json:"uncertain"`
	// What Flink does without and with --allow-non-restored-state (-n).
	WithoutAllowNonRestored Outcome `json:"without_allow_non_restored_state"`
	WithAllowNonRestored    Outcome `json:"with_allow_non_restored_state"`
	ExitCode                int     `json:"exit_code"`
}

// PlanOperator is one operator in a plan.
type PlanOperator struct {
	ID             string `json:"id"`
	UID            string `json:"uid"`
	Name           string `json:"name,omitempty"`
	HasState       bool   `json:"has_state"`
	StateSize      int64  `json:"state_size"`
	Parallelism    int32  `json:"parallelism,omitempty"`     // in the snapshot
	MaxParallelism int32  `json:"max_parallelism,omitempty"` // in the snapshot
	NewParallelism int    `json:"new_parallelism,omitempty"` // in the new job, when known
	// NewMaxParallelism is the new job's max parallelism when known; for
	// a restored operator whose max parallelism Flink adopts from the
	// snapshot, it is the snapshot's.
	NewMaxParallelism int    `json:"new_max_parallelism,omitempty"`
	Note              string `json:"note,omitempty"`
}

// PlanFailure is a reason the restore fails.
type PlanFailure struct {
	ID     string `json:"id"`
	UID    string `json:"uid"`
	Reason string `json:"reason"`
}

// PlanResume applies Flink's restore rules (Checkpoints.loadAndValidateCheckpoint
// and the scheduler's max-parallelism check, Flink 1.x and 2.x alike) to
// resuming m into target:
//
//   - a snapshot operator matches a job operator by operator ID;
//   - a matched operator must keep its max parallelism, unless the new job
//     did not configure one, in which case Flink adopts the snapshot's (which
//     must then be at least the new parallelism) — checked for every
//     matched operator, with or without state;
//   - an unmatched operator with state (any subtask state or coordinator
//     state) makes the restore fail unless allow-non-restored-state is set;
//     an unmatched operator without state is skipped.
//
// uids names snapshot operators in the output (may be nil).
func PlanResume(m *snapshot.Metadata, target Target, uids *UIDMapping) *ResumePlan {
	p := &ResumePlan{Target: target.Source, Restored: []PlanOperator{}, Dropped: []PlanOperator{},
		SkippedEmpty: []PlanOperator{}, New: []PlanOperator{}, Failures: []PlanFailure{}}
	byID := map[snapshot.OperatorID]TargetOperator{}
	for _, o := range target.Operators {
		byID[o.id()] = o
	}
	inSnapshot := map[snapshot.OperatorID]bool{}
	for _, op := range m.Operators {
		inSnapshot[op.ID] = true
		po := PlanOperator{ID: op.ID.String(), UID: op.UID, Name: op.Name, HasState: operatorHasState(op),
			StateSize: op.StateSize(), Parallelism: op.Parallelism, MaxParallelism: op.MaxParallelism}
		if po.UID == "" {
			po.UID, _ = uids.Lookup(op.ID)
		}
		t, ok := byID[op.ID]
		if !ok {
			switch {
			case !po.HasState:
				p.SkippedEmpty = append(p.SkippedEmpty, po)
			default:
				if po.UID == "" && !target.Complete {
					po.Note = "no uid known: restored only if the new job gives this operator the same generated ID (unchanged topology); a uid list cannot tell"
					p.Uncertain = true
				}
				p.Dropped = append(p.Dropped, po)
				p.DroppedBytes += po.StateSize
			}
			continue
		}
		if po.UID == "" {
			po.UID = t.UID
		}
		po.NewParallelism, po.NewMaxParallelism = t.Parallelism, t.MaxParallelism
		if reason := maxParallelismProblem(op, t); reason != "" {
			p.Failures = append(p.Failures, PlanFailure{ID: po.ID, UID: po.UID, Reason: reason})
		} else if t.MaxParallelism != 0 && t.MaxParallelism != int(op.MaxParallelism) {
			po.Note = fmt.Sprintf("max parallelism %d not configured in the new job: Flink adopts the snapshot's %d", t.MaxParallelism, op.MaxParallelism)
			po.NewMaxParallelism = int(op.MaxParallelism)
		}
		if op.FullyFinished {
			po.Note = "finished when the snapshot was taken: it restores as finished and does not run again"
		}
		p.Restored = append(p.Restored, po)
	}
	for _, t := range target.Operators {
		if inSnapshot[t.id()] {
			continue
		}
		p.New = append(p.New, PlanOperator{ID: t.id().String(), UID: t.UID, Name: t.Name,
			NewParallelism: t.Parallelism, NewMaxParallelism: t.MaxParallelism})
	}
	sort.SliceStable(p.New, func(i, j int) bool { return p.New[i].UID < p.New[j].UID })

	switch {
	case len(p.Failures) > 0:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = OutcomeFails, OutcomeFails, ExitResumeFails
	case len(p.Dropped) > 0:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = OutcomeFails, OutcomeRestores, ExitResumeDropState
	default:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = OutcomeRestores, OutcomeRestores, ExitResumeOK
	}
	return p
}

// operatorHasState is Flink's test for "this operator state must be
// restored somewhere": coordinator state or any subtask with state.
func operatorHasState(op *snapshot.OperatorState) bool {
	if op.CoordinatorState != nil {
		return true
	}
	for _, s := range op.Subtasks {
		if s.HasState() {
			return true
		}
	}
	return false
}

// maxParallelismProblem is Flink's max-parallelism rule for a matched
// operator; "" when the restore can proceed.
func maxParallelismProblem(op *snapshot.OperatorState, t TargetOperator) string {
	old := int(op.MaxParallelism)
	switch {
	case t.MaxParallelism != 0 && t.MaxParallelism != old && t.MaxParallelismConfigured:
		return fmt.Sprintf("max parallelism changed from %d (snapshot) to %d (configured in the new job): "+
			"keyed state is split into max-parallelism key groups and cannot be re-split", old, t.MaxParallelism)
	case t.Parallelism > old:
		return fmt.Sprintf("new parallelism %d exceeds the snapshot's max parallelism %d", t.Parallelism, old)
	}
	return ""
}
