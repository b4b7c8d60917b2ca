package runtime

import (
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/snapshot"
)

// restoreJob: source → keyBy → count → list (chained, own max
// parallelism 64) → sink (chained, own max parallelism 32); countMP is the
// chain head's own max parallelism (0 = derived).
func restoreJob(t *testing.T, countMP int) *graph.Graph {
	t.Helper()
	op := func() operator.Operator {
		return &operator.Map{Fn: func(r operator.Record) operator.Record { return r }}
	}
	g := graph.New("j")
	g.Source("gen", func() operator.Source { return nil }).UID("src").
		KeyBy().Process("count", op).UID("count").MaxParallelism(countMP).
		Process("list", op).UID("list").MaxParallelism(64).
		Sink("sink", op).UID("sink").MaxParallelism(32)
	if err := g.Finalize(2, 0); err != nil {
		t.Fatal(err)
	}
	return g
}

func keyedOp(uid string, maxP int32) *snapshot.OperatorState {
	op := snapshot.NewOperatorState(uid, uid, 2, maxP)
	for i := int32(0); i < 2; i++ {
		r := snapshot.KeyGroupRangeFor(maxP, 2, i)
		op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: i,
			ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(r, make([]int64, r.Count), &snapshot.ByteStreamHandle{Name: "k", Data: make([]byte, 10)})})
	}
	return op
}

func statelessOp(uid string, maxP int32) *snapshot.OperatorState {
	op := snapshot.NewOperatorState(uid, uid, 2, maxP)
	op.Subtasks = []*snapshot.SubtaskState{{Index: 0}, {Index: 1}}
	return op
}

// restoreSnapshot is what the job writes: every operator of a chain with
// the head's max parallelism.
func restoreSnapshot(countMP int32, extra ...*snapshot.OperatorState) *snapshot.Metadata {
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 3}
	m.Operators = append([]*snapshot.OperatorState{statelessOp("src", 128), keyedOp("count", countMP),
		statelessOp("list", countMP), statelessOp("sink", countMP)}, extra...)
	return m
}

// The engine's restore check is the inspector's plan: what the two
// implementations did differently before, and the per-vertex max
// parallelism rule.
func TestCheckRestore(t *testing.T) {
	coordinatorOnly := statelessOp("gone-source", 128)
	coordinatorOnly.CoordinatorState = &snapshot.ByteStreamHandle{Name: "enumerator", Data: make([]byte, 12)}
	keyedList := restoreSnapshot(128) // keyed state where the new job has the non-keyed list operator
	keyedList.Operators[2] = keyedOp("list", 128)
	tests := []struct {
		name    string
		countMP int
		m       *snapshot.Metadata
		without string // "" = restores without -n, else part of the error
		with    string // the same with -n
		adopted int    // max parallelism of the count chain after the check
		dropped []string
	}{
		{"unchanged job: chained operators' own max parallelism is ignored", 0, restoreSnapshot(128), "", "", 128, nil},
		{"only coordinator state has no operator: it counts as state", 0, restoreSnapshot(128, coordinatorOnly),
			`no operator for 1 operator(s) with state: ` + coordinatorOnly.ID.String() + ` (uid "gone-source")`, "", 128, []string{"gone-source"}},
		{"keyed state on a non-keyed operator is ignored, as Flink does", 0, keyedList, "", "", 128, nil},
		{"derived head max parallelism adopts the snapshot's for the whole chain", 0, restoreSnapshot(256), "", "", 256, nil},
		{"configured head max parallelism differs", 128, restoreSnapshot(256),
			"max parallelism changed from 256 (snapshot) to 128", "max parallelism changed from 256 (snapshot) to 128", 0, nil},
		{"configured head max parallelism as in the snapshot", 256, restoreSnapshot(256), "", "", 256, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, allow := range []bool{false, true} {
				g := restoreJob(t, tt.countMP)
				want := tt.without
				if allow {
					want = tt.with
				}
				err := CheckRestore(g, tt.m, allow)
				if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
					t.Fatalf("-n=%v: CheckRestore = %v, want %q", allow, err, want)
				}
				if err != nil {
					continue
				}
				for _, v := range g.Vertices[1:] {
					if v.MaxParallelism != tt.adopted {
						t.Errorf("-n=%v: %s has max parallelism %d after the check, want %d (the chain's)", allow, v.UID, v.MaxParallelism, tt.adopted)
					}
				}
				if err := CheckRestore(g, tt.m, allow); err != nil {
					t.Errorf("-n=%v: a second check fails: %v", allow, err)
				}
				un, err := Unmatched(g, tt.m)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, u := range un {
					got = append(got, u.UID)
				}
				if strings.Join(got, ",") != strings.Join(tt.dropped, ",") {
					t.Errorf("Unmatched = %v, want %v", got, tt.dropped)
				}
			}
		})
	}
}
