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
	// MaxParallelism of the job vertex the operator runs in; 0 = derived
	// by Flink from the parallelism (it can then adopt the snapshot's).
	// Flink applies max parallelism per job vertex: every operator of a
	// chain has the chain head's, and a value set on an operator chained
	// after the head is ignored, both when a snapshot is written and when
	// it is restored. Whoever builds the target applies that rule (a job
	// graph knows its chains; see graph.Graph.ResumeTarget).
	MaxParallelism int
	// MaxParallelismConfigured: the vertex's max parallelism was set
	// explicitly (on the chain head or for the whole job). Flink can only
	// adopt the snapshot's max parallelism when it was not.
	MaxParallelismConfigured bool
	// NotKeyed: the operator is known to take no keyed input (a job graph
	// says so), so it has no keyed state backend: Flink restores the rest
	// of its state and ignores keyed state without a word.
	NotKeyed bool
	// Declared is the keyed state the operator registers, with its types,
	// when the target knows it (a ckpt job spec); nil otherwise.
	Declared *DeclaredSchema
	// ChainedID: an operator chained after a vertex's head, whose ID comes
	// from the plan of the same program with chaining disabled (see
	// TargetFromJobPlan). The chained job gives it that ID only if it has
	// a uid, so a snapshot operator matches it for certain only when the
	// snapshot operator's uid is known.
	ChainedID bool
	// KeyedUnknown: whether the operator is keyed is not known (a jar's
	// plan shows a keyBy as a HASH input of a vertex head; a chained
	// operator, or a head without one, may still be keyed through
	// reinterpretAsKeyedStream). Keyed state restored into it may be
	// ignored, so the plan cannot promise it.
	KeyedUnknown bool
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
	// MaxParallelismUnknown: the target carries no parallelism and max
	// parallelism (a uid list), so Flink's max-parallelism check cannot be
	// made; the plan says so instead of promising a restore.
	MaxParallelismUnknown bool
	// HiddenOperators: some job vertices chain operators whose IDs the
	// target does not know for certain (a jar's plan exposes the chain
	// heads' only). Snapshot state no head claims may belong to one of
	// them: the plan reports it as unknown rather than dropped, unless
	// ChainedIDs rules that out.
	HiddenOperators bool
	// ChainedIDs: the operators chained after the heads are listed too
	// (ChainedID), so a snapshot operator whose uid is known and that
	// matches none of them is dropped for certain.
	ChainedIDs bool
}

// TargetFromUIDs is a target whose operators are known only by uid (or
// literal IDs, see HashPrefix).
func TargetFromUIDs(source string, uids []string) (Target, error) {
	t := Target{Source: source, MaxParallelismUnknown: true}
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
	// OutcomeRestoresUnchecked: every piece of state finds its operator,
	// but the max-parallelism check could not be made (the target has no
	// max parallelism): Flink still refuses if the new job's differs.
	OutcomeRestoresUnchecked Outcome = "restores_if_max_parallelism_fits"
	// OutcomeUnknown: some state may have no operator in the new job (see
	// ResumePlan.Unknown): Flink refuses without -n if it has none.
	OutcomeUnknown Outcome = "unknown"
)

// MaxParallelismCheck says whether a plan applied Flink's max-parallelism
// rule.
type MaxParallelismCheck string

const (
	MaxParallelismChecked MaxParallelismCheck = "checked"
	// MaxParallelismNotChecked: the target carries no max parallelism (a
	// uid list); give a job spec to check it.
	MaxParallelismNotChecked MaxParallelismCheck = "not_checked"
)

// Exit codes of `ckpt inspect --against` (documented in the README).
const (
	ExitResumeOK        = 0 // every piece of state finds its operator
	ExitResumeDropState = 3 // state would be lost: state with no operator (fails without -n, lost with -n), or keyed state a non-keyed operator ignores
	ExitResumeFails     = 4 // Flink refuses the restore even with -n
	ExitResumeUnknown   = 6 // the dry run cannot tell whether some state finds its operator (a jar's chained operators)
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
	// KeyedStateIgnored: restored operators with keyed state in the
	// snapshot that are not keyed in the new job. Flink resumes (with or
	// without -n) and ignores that keyed state: it is lost.
	KeyedStateIgnored []PlanOperator `json:"keyed_state_ignored"`
	// IgnoredBytes is the size of that keyed state.
	IgnoredBytes int64 `json:"ignored_bytes"`
	// Unknown: snapshot operators with state that the target can neither
	// match nor rule out — they may be operators chained inside a vertex
	// of the new job, whose IDs its plan does not expose. Flink restores
	// them if so; if not, it refuses without -n and drops them with it.
	Unknown []PlanOperator `json:"unknown"`
	// UnknownBytes is their state size.
	UnknownBytes int64 `json:"unknown_bytes"`
	// Uncertain: the plan could not know some operator IDs (operators
	// without uid and a target given as a uid list).
	Uncertain bool `json:"uncertain"`
	// MaxParallelismCheck: whether the max-parallelism rule was applied.
	// When it was not, no outcome below is a plain "restores".
	MaxParallelismCheck MaxParallelismCheck `json:"max_parallelism_check"`
	// What Flink does without and with --allow-non-restored-state (-n).
	WithoutAllowNonRestored Outcome `json:"without_allow_non_restored_state"`
	WithAllowNonRestored    Outcome `json:"with_allow_non_restored_state"`
	ExitCode                int     `json:"exit_code"`
	// Upgrade lists the restored state's upgrade risks (AssessUpgrade);
	// nil when not assessed.
	Upgrade *UpgradeRisks `json:"upgrade_risks,omitempty"`
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
// and StateAssignmentOperation's parallelism preconditions, Flink 1.x and
// 2.x alike) to resuming m into target. It is the one implementation of
// those rules: the dry runs (`ckpt inspect --against`, `ckpt submit`, the
// TUI) print it and the embedded engine refuses or performs a restore by it.
//
//   - a snapshot operator matches a job operator by operator ID;
//   - a matched operator must keep its job vertex's max parallelism (the
//     chain head's, see TargetOperator.MaxParallelism), unless the new job
//     did not configure one, in which case Flink adopts the snapshot's
//     (which must then be at least the new parallelism) — checked for
//     every matched operator, with or without state;
//   - keyed state of an operator that is not keyed in the new job
//     (TargetOperator.NotKeyed) is not restored: Flink resumes and ignores
//     it without a word (tried on real Flink 2.3 and 1.20), so the plan
//     lists it as lost (KeyedStateIgnored);
//   - an unmatched operator with state (any subtask state or coordinator
//     state) makes the restore fail unless allow-non-restored-state is set;
//     an unmatched operator without state is skipped.
//
// uids names snapshot operators in the output (may be nil).
func PlanResume(m *snapshot.Metadata, target Target, uids *UIDMapping) *ResumePlan {
	p := &ResumePlan{Target: target.Source, Restored: []PlanOperator{}, Dropped: []PlanOperator{},
		SkippedEmpty: []PlanOperator{}, New: []PlanOperator{}, Failures: []PlanFailure{}, KeyedStateIgnored: []PlanOperator{},
		Unknown: []PlanOperator{}, MaxParallelismCheck: MaxParallelismChecked}
	if target.MaxParallelismUnknown {
		p.MaxParallelismCheck = MaxParallelismNotChecked
	}
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
		// uidKnown: the snapshot operator was identified by a uid (or a
		// pinned hash), which gives it the same ID chained or not.
		uidKnown := po.UID != ""
		if ok && t.ChainedID && !uidKnown {
			if po.HasState {
				po.Name = firstNonEmpty(po.Name, t.Name)
				po.Note = "an operator chained in the new job has this ID when chaining is disabled; chained, it keeps it only if it has a uid (name the snapshot's uids with --uids to decide)"
				p.Unknown = append(p.Unknown, po)
				p.UnknownBytes += po.StateSize
			} else {
				po.Note = "no state; an operator chained in the new job may have this ID (no uid known)"
				p.SkippedEmpty = append(p.SkippedEmpty, po)
			}
			continue
		}
		if !ok {
			switch {
			case !po.HasState:
				p.SkippedEmpty = append(p.SkippedEmpty, po)
			case target.HiddenOperators && (!uidKnown || !target.ChainedIDs):
				po.Note = "no head of a job vertex has this ID; it may be an operator chained inside one, whose ID the plan does not expose"
				if !uidKnown {
					po.Note += " (no uid known for it: name the snapshot's uids with --uids)"
				}
				p.Unknown = append(p.Unknown, po)
				p.UnknownBytes += po.StateSize
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
		if t.ChainedID {
			po.Note = "chained in the new job (its ID from its uid)"
		}
		// Without a max parallelism, maxParallelismProblem still applies
		// the parallelism rule where the target knows the parallelism.
		reason := maxParallelismProblem(op, t)
		switch {
		case reason != "":
			p.Failures = append(p.Failures, PlanFailure{ID: po.ID, UID: po.UID, Reason: reason})
		case target.MaxParallelismUnknown:
			po.NewMaxParallelism = 0
		case t.MaxParallelism != int(op.MaxParallelism):
			// Derived, not configured (else maxParallelismProblem): Flink
			// gives the vertex the snapshot's.
			if t.MaxParallelism != 0 {
				po.Note = fmt.Sprintf("max parallelism %d not configured in the new job: Flink adopts the snapshot's %d", t.MaxParallelism, op.MaxParallelism)
			}
			po.NewMaxParallelism = int(op.MaxParallelism)
		}
		if op.FullyFinished {
			po.Note = "finished when the snapshot was taken: it restores as finished and does not run again"
		}
		if n, ok := keyedStateSize(op); ok && t.NotKeyed {
			po.Note = "its keyed state is NOT restored: the operator is not keyed in the new job (keyBy missing?) and Flink ignores keyed state there without a word"
			ignored := po
			ignored.StateSize = n
			p.KeyedStateIgnored = append(p.KeyedStateIgnored, ignored)
			p.IgnoredBytes += n
		} else if ok && t.KeyedUnknown {
			unsure := po
			unsure.StateSize = n
			unsure.Note = "keyed state, and the plan does not show the new job's operator keyed (no keyBy into it): if it is not, Flink ignores that state"
			p.Unknown = append(p.Unknown, unsure)
			p.UnknownBytes += n
		}
		p.Restored = append(p.Restored, po)
	}
	for _, t := range target.Operators {
		if inSnapshot[t.id()] {
			continue
		}
		n := PlanOperator{ID: t.id().String(), UID: t.UID, Name: t.Name,
			NewParallelism: t.Parallelism, NewMaxParallelism: t.MaxParallelism}
		if t.ChainedID {
			n.Note = "chained; ID from the plan with chaining disabled (the job's own if the operator has a uid)"
		}
		p.New = append(p.New, n)
	}
	sort.SliceStable(p.New, func(i, j int) bool { return p.New[i].UID < p.New[j].UID })

	restores := OutcomeRestores
	if target.MaxParallelismUnknown {
		restores = OutcomeRestoresUnchecked
	}
	without := restores
	if len(p.Unknown) > 0 {
		without = OutcomeUnknown
		p.Uncertain = true
	}
	switch {
	case len(p.Failures) > 0:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = OutcomeFails, OutcomeFails, ExitResumeFails
	case len(p.Dropped) > 0:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = OutcomeFails, restores, ExitResumeDropState
	case len(p.KeyedStateIgnored) > 0:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = without, restores, ExitResumeDropState
	case len(p.Unknown) > 0:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = without, restores, ExitResumeUnknown
	default:
		p.WithoutAllowNonRestored, p.WithAllowNonRestored, p.ExitCode = restores, restores, ExitResumeOK
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

// keyedStateSize is the size of op's keyed state; false when it has none.
func keyedStateSize(op *snapshot.OperatorState) (int64, bool) {
	var n int64
	found := false
	for _, s := range op.Subtasks {
		for _, h := range []snapshot.Handle{s.ManagedKeyedState, s.RawKeyedState} {
			if h != nil {
				n += h.StateSize()
				found = true
			}
		}
	}
	return n, found
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
