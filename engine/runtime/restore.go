package runtime

import (
	"fmt"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
)

// CheckRestore decides, by the inspector's implementation of Flink's
// restore rules (inspector.PlanResume — the same the dry runs print),
// whether the state in m can be restored into g: it fails when Flink
// would refuse whatever the flags (max parallelism, keyed state on a
// non-keyed operator) and when state has no operator in g and
// allowNonRestored is off; the error lists every such operator.
//
// Like Flink's restore, it adopts the snapshot's max parallelism for every
// job vertex (chain) of g whose max parallelism was derived, not
// configured (graph.Vertex.MaxParallelismDerived) — so g may change; doing
// it again changes nothing. g must be finalized.
func CheckRestore(g *graph.Graph, m *snapshot.Metadata, allowNonRestored bool) error {
	plan := inspector.PlanResume(m, g.ResumeTarget("the job"), nil)
	if len(plan.Failures) > 0 {
		var parts []string
		for _, f := range plan.Failures {
			parts = append(parts, fmt.Sprintf("operator %s: %s", label(g, f.ID, f.UID), f.Reason))
		}
		return fmt.Errorf("cannot restore the snapshot into the job, with or without -n: %s", strings.Join(parts, "; "))
	}
	if len(plan.Dropped) > 0 && !allowNonRestored {
		var parts []string
		for _, d := range plan.Dropped {
			parts = append(parts, unmatchedOf(d).String())
		}
		return fmt.Errorf("cannot map snapshot state to the job: no operator for %d operator(s) with state: %s "+
			"(allow non-restored state, -n / --allowNonRestoredState, to skip it)", len(plan.Dropped), strings.Join(parts, "; "))
	}
	adoptMaxParallelism(g, plan)
	return nil
}

// adoptMaxParallelism gives each chain of g whose max parallelism was
// derived the max parallelism the plan adopted for it from the snapshot
// (Flink sets it on the job vertex: every operator of the chain).
func adoptMaxParallelism(g *graph.Graph, plan *inspector.ResumePlan) {
	adopted := map[snapshot.OperatorID]int{}
	for _, r := range plan.Restored {
		id, err := snapshot.ParseOperatorID(r.ID)
		if err == nil && r.NewMaxParallelism > 0 {
			adopted[id] = r.NewMaxParallelism
		}
	}
	for _, ch := range g.Chains() {
		head := g.Vertices[ch[0]]
		if !head.MaxParallelismDerived {
			continue
		}
		for _, i := range ch {
			mp, ok := adopted[g.Vertices[i].ID]
			if !ok || mp == head.MaxParallelism {
				continue
			}
			for _, j := range ch {
				g.Vertices[j].MaxParallelism = mp
			}
			break
		}
	}
}

func label(g *graph.Graph, id, uid string) string {
	if oid, err := snapshot.ParseOperatorID(id); err == nil {
		if v := g.ByID(oid); v != nil {
			return v.Label()
		}
	}
	if uid != "" {
		return fmt.Sprintf("%s (uid %s)", id, uid)
	}
	return id
}

// UnmatchedOperator is snapshot state that maps to no operator of the job.
type UnmatchedOperator struct {
	ID        snapshot.OperatorID
	UID, Name string
	StateSize int64
}

func (u UnmatchedOperator) String() string {
	s := u.ID.String()
	if u.UID != "" {
		s += fmt.Sprintf(" (uid %q)", u.UID)
	}
	return s + fmt.Sprintf(", %d bytes of state", u.StateSize)
}

func unmatchedOf(d inspector.PlanOperator) UnmatchedOperator {
	id, _ := snapshot.ParseOperatorID(d.ID)
	return UnmatchedOperator{ID: id, UID: d.UID, Name: d.Name, StateSize: d.StateSize}
}

// Unmatched lists every operator of m with state (subtask or coordinator
// state) that g has no operator for — what a restore with allow
// non-restored state drops (Flink names only the first; this names all,
// with uid and size). It fails when the restore fails whatever the flags.
func Unmatched(g *graph.Graph, m *snapshot.Metadata) ([]UnmatchedOperator, error) {
	if err := CheckRestore(g, m, true); err != nil {
		return nil, err
	}
	plan := inspector.PlanResume(m, g.ResumeTarget("the job"), nil)
	var out []UnmatchedOperator
	for _, d := range plan.Dropped {
		out = append(out, unmatchedOf(d))
	}
	return out, nil
}
