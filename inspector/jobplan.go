package inspector

import (
	"fmt"
	"html"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// A Java program's job graph is known to ckpt only through Flink's plan of
// it (POST /jars/:jarid/plan): one node per job vertex with its ID, its
// parallelism and a description naming the operators chained in it. What
// the plan holds decides what the dry run can know, and it says the rest
// is unknown:
//
//   - a job vertex's ID is the operator ID of its chain head, so every
//     head is matched exactly;
//   - the IDs of the operators chained after the head are not in the plan
//     (Flink 1.20 and 2.3 alike). The plan of the same program with
//     chaining disabled (pipeline.operator-chaining.enabled=false) has one
//     vertex per operator; an operator's ID there is its ID in the chained
//     job when it has a uid (an ID hashed from a uid does not depend on
//     chaining; a generated one does). So a snapshot operator whose uid is
//     known (Flink ≥ 2.0 records it; --uids for older snapshots) is matched
//     exactly against that plan; one whose uid is not known and that no
//     head claims may belong to a chained operator without uid: UNKNOWN;
//   - max parallelism is not in the plan: not checked, as for a uid list.

// JobPlan is Flink's plan of a program: its job vertices, as the jar's
// main() builds them with the given entry class, arguments and
// parallelism.
type JobPlan struct {
	JobName  string
	Vertices []PlanVertex
	// Unchained is the plan of the same program with operator chaining
	// disabled: one vertex per operator (nil = not obtained). Its IDs are
	// the chained job's for operators with a uid only.
	Unchained []PlanVertex
}

// PlanVertex is one job vertex of a plan.
type PlanVertex struct {
	// ID is the vertex ID: the operator ID of the chain head.
	ID snapshot.OperatorID
	// Operators names the operators chained in the vertex, head first, as
	// the plan's description lists them (nil = the description does not
	// say).
	Operators []string
	// Description is the plan's description of the vertex, as sent.
	Description string
	// Parallelism of the vertex; 0 = not in the plan (the cluster's default
	// applies).
	Parallelism int
	// MaxParallelism of the vertex; 0 = not in the plan (Flink 1.20 and
	// 2.3 do not put it there).
	MaxParallelism int
	// OperatorIDs are the IDs of every operator of the vertex, head first,
	// where the plan exposes them (nil = it does not).
	OperatorIDs []snapshot.OperatorID
	// Inputs are the IDs of the vertices feeding this one, with Flink's
	// ship strategy (HASH for a keyBy).
	Inputs []PlanInput
}

// PlanInput is one input of a job vertex.
type PlanInput struct {
	ID           string
	ShipStrategy string
}

// Chained reports whether the vertex may hold more than one operator: its
// description lists several, or does not say.
func (v PlanVertex) Chained() bool {
	return len(v.OperatorIDs) != 1 && len(v.Operators) != 1
}

// keyed: a keyBy feeds the vertex (a HASH input), so its head is keyed.
func (v PlanVertex) keyed() bool {
	for _, in := range v.Inputs {
		if strings.EqualFold(in.ShipStrategy, "HASH") {
			return true
		}
	}
	return false
}

// ChainedOperatorNames splits a plan description into the names of the
// operators chained in the vertex, head first: Flink's TREE description
// ("a<br/>+- b<br/>   +- c<br/>", the default) or its CASCADING one
// ("a -> b -> c"). A description it cannot read gives nil: the vertex is
// then treated as possibly chained.
func ChainedOperatorNames(description string) []string {
	d := strings.TrimSpace(description)
	if d == "" {
		return nil
	}
	var names []string
	if strings.Contains(d, "<br/>") || strings.Contains(d, "\n") {
		d = strings.ReplaceAll(d, "\n", "<br/>")
		for _, line := range strings.Split(d, "<br/>") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			names = append(names, html.UnescapeString(strings.TrimSpace(strings.TrimPrefix(line, "+-"))))
		}
		return names
	}
	if strings.Contains(d, " -> ") || strings.Contains(d, "(") {
		// A cascading chain, or a fan-out "a -> (b, c)": a chain of unknown
		// shape.
		parts := strings.Split(d, " -> ")
		if len(parts) == 1 {
			return nil
		}
		for _, p := range parts {
			if strings.ContainsAny(p, "(),") {
				return nil
			}
			names = append(names, html.UnescapeString(strings.TrimSpace(p)))
		}
		return names
	}
	return []string{html.UnescapeString(d)}
}

// TargetFromJobPlan is the resume target of a program known by Flink's
// plan (see JobPlan): each vertex's head by its exact ID and parallelism;
// the operators chained after a head by their IDs in the unchained plan,
// exact for operators with a uid only (TargetOperator.ChainedID); max
// parallelism not checked. source names the program ("jar orders.jar").
func TargetFromJobPlan(source string, plan *JobPlan) (Target, error) {
	t := Target{Source: source, MaxParallelismUnknown: true}
	if plan == nil || len(plan.Vertices) == 0 {
		return t, fmt.Errorf("%s: the plan has no job vertices", source)
	}
	heads := map[snapshot.OperatorID]bool{}
	for _, v := range plan.Vertices {
		if v.ID.IsZero() {
			return t, fmt.Errorf("%s: a job vertex of the plan has no ID", source)
		}
		heads[v.ID] = true
		name := v.Description
		if len(v.Operators) > 0 {
			name = v.Operators[0]
		}
		t.Operators = append(t.Operators, TargetOperator{ID: v.ID, Name: name, Parallelism: v.Parallelism,
			MaxParallelism: v.MaxParallelism, KeyedUnknown: !v.keyed()})
		if v.Chained() {
			t.HiddenOperators = true
		}
		// IDs of chained operators, where the plan exposes them.
		for i, id := range v.OperatorIDs {
			if i == 0 || heads[id] {
				continue
			}
			heads[id] = true
			op := TargetOperator{ID: id, Parallelism: v.Parallelism, MaxParallelism: v.MaxParallelism, KeyedUnknown: true}
			if i < len(v.Operators) {
				op.Name = v.Operators[i]
			}
			t.Operators = append(t.Operators, op)
		}
	}
	if t.HiddenOperators && plan.Unchained != nil {
		t.ChainedIDs = true
		for _, u := range plan.Unchained {
			if heads[u.ID] || u.ID.IsZero() {
				continue
			}
			name := u.Description
			if len(u.Operators) > 0 {
				name = u.Operators[0]
			}
			// A head without uid appears here too, under another
			// generated ID: harmless, as only a snapshot operator with a
			// known uid is matched to these IDs for certain.
			t.Operators = append(t.Operators, TargetOperator{ID: u.ID, Name: name, Parallelism: u.Parallelism,
				MaxParallelism: u.MaxParallelism, ChainedID: true, KeyedUnknown: true})
		}
	}
	return t, nil
}
