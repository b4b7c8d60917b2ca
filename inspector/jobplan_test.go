package inspector

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
)

func TestChainedOperatorNames(t *testing.T) {
	for _, tt := range []struct {
		description string
		want        []string
	}{
		// Flink's TREE description (the default), as 2.3 and 1.20 send it.
		{"count-per-key<br/>+- list<br/>   +- sink: Writer<br/>", []string{"count-per-key", "list", "sink: Writer"}},
		{"Source: gen-source<br/>", []string{"Source: gen-source"}},
		{"a &amp; b<br/>+- c&lt;d&gt;<br/>", []string{"a & b", "c<d>"}},
		// CASCADING.
		{"Source: src -> Map -> Sink: out", []string{"Source: src", "Map", "Sink: out"}},
		{"Map", []string{"Map"}},
		// A fan-out chain or nothing to read: unknown shape.
		{"Source: src -> (Map, Filter)", nil},
		{"", nil},
	} {
		if got := ChainedOperatorNames(tt.description); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.description, got, tt.want)
		}
	}
}

// jarSnapshot: a source, a keyed count (head of the second vertex) and an
// operator-state "list" chained after it; with uids recorded (Flink ≥ 2.0)
// or not (older snapshots).
func jarSnapshot(withUIDs bool) *snapshot.Metadata {
	m := planSnapshot()
	m.Operators = m.Operators[:2] // src, count
	list := snapshot.NewOperatorState("list", "list", 2, 128)
	for i := int32(0); i < 2; i++ {
		list.Subtasks = append(list.Subtasks, &snapshot.SubtaskState{Index: i, ManagedOperatorState: snapshot.NewOperatorStreamHandle(
			&snapshot.ByteStreamHandle{Name: "l", Data: make([]byte, 30)}, snapshot.NamedOperatorState{Name: "l", Offsets: []int64{0}})})
	}
	m.Operators = append(m.Operators, list)
	if !withUIDs {
		for _, op := range m.Operators {
			op.UID = ""
		}
	}
	return m
}

// jarPlan is the plan Flink gives of that job: the source vertex chains a
// map; the count vertex (fed by a keyBy) chains list and the sink. uidless
// names the operators that lost their uid in the new program (their IDs
// are generated, and differ chained or not).
func jarPlan(parallelism int, unchained bool, uidless ...string) *JobPlan {
	id := func(uid string, chained bool) snapshot.OperatorID {
		for _, u := range uidless {
			if u == uid {
				if chained {
					return snapshot.OperatorIDFromUID("generated chained " + uid)
				}
				return snapshot.OperatorIDFromUID("generated unchained " + uid)
			}
		}
		return snapshot.OperatorIDFromUID(uid)
	}
	v := func(uid, description string, chained bool, inputs ...PlanInput) PlanVertex {
		return PlanVertex{ID: id(uid, chained), Description: description, Operators: ChainedOperatorNames(description),
			Parallelism: parallelism, Inputs: inputs}
	}
	p := &JobPlan{JobName: "job", Vertices: []PlanVertex{
		v("src", "Source: src<br/>+- map<br/>", true),
		v("count", "count<br/>+- list<br/>   +- sink: Writer<br/>", true, PlanInput{ID: "x", ShipStrategy: "HASH"}),
	}}
	if unchained {
		p.Unchained = []PlanVertex{v("src", "Source: src<br/>", false), v("map", "map<br/>", false),
			v("count", "count<br/>", false, PlanInput{ShipStrategy: "HASH"}), v("list", "list<br/>", false), v("sink", "sink: Writer<br/>", false)}
	}
	return p
}

// TestPlanResumeAgainstJobPlan: what the dry run says of a jar's plan,
// knowing chain heads' IDs exactly, chained operators' only through the
// unchained plan and for known uids, and no max parallelism.
func TestPlanResumeAgainstJobPlan(t *testing.T) {
	tests := []struct {
		name          string
		snapUIDs      bool
		mapping       []string
		plan          *JobPlan
		exit          int
		without, with Outcome
		restored      int
		dropped       []string // uids (or IDs) dropped for certain
		unknown       []string
	}{
		{"same program: heads by vertex ID, the chained list by its uid", true, nil, jarPlan(2, true),
			ExitResumeOK, OutcomeRestoresUnchecked, OutcomeRestoresUnchecked, 3, nil, nil},
		{"same program without the unchained plan: the chained list is unknown", true, nil, jarPlan(2, false),
			ExitResumeUnknown, OutcomeUnknown, OutcomeRestoresUnchecked, 2, nil, []string{"list"}},
		{"no uids in the snapshot: the chained list is unknown", false, nil, jarPlan(2, true),
			ExitResumeUnknown, OutcomeUnknown, OutcomeRestoresUnchecked, 2, nil, []string{snapshot.OperatorIDFromUID("list").String()}},
		{"no uids in the snapshot, named by --uids", false, []string{"src", "count", "list"}, jarPlan(2, true),
			ExitResumeOK, OutcomeRestoresUnchecked, OutcomeRestoresUnchecked, 3, nil, nil},
		{"the count head lost its uid: dropped for certain", true, nil, jarPlan(2, true, "count"),
			ExitResumeDropState, OutcomeFails, OutcomeRestoresUnchecked, 2, []string{"count"}, nil},
		{"the chained list lost its uid: dropped for certain", true, nil, jarPlan(2, true, "list"),
			ExitResumeDropState, OutcomeFails, OutcomeRestoresUnchecked, 2, []string{"list"}, nil},
		{"the count head lost its uid, snapshot without uids: unknown", false, nil, jarPlan(2, true, "count"),
			ExitResumeUnknown, OutcomeUnknown, OutcomeRestoresUnchecked, 1, nil,
			[]string{snapshot.OperatorIDFromUID("count").String(), snapshot.OperatorIDFromUID("list").String()}},
		{"parallelism above the snapshot's max parallelism fails", true, nil, jarPlan(200, true),
			ExitResumeFails, OutcomeFails, OutcomeFails, 3, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := TargetFromJobPlan("jar test.jar", tt.plan)
			if err != nil {
				t.Fatal(err)
			}
			var uids *UIDMapping
			if tt.mapping != nil {
				if uids, err = NewUIDMapping(tt.mapping); err != nil {
					t.Fatal(err)
				}
			}
			p := PlanResume(jarSnapshot(tt.snapUIDs), target, uids)
			if p.ExitCode != tt.exit || p.WithoutAllowNonRestored != tt.without || p.WithAllowNonRestored != tt.with || len(p.Restored) != tt.restored {
				t.Errorf("exit %d, %s/%s, %d restored; want %d, %s/%s, %d (plan %+v)", p.ExitCode, p.WithoutAllowNonRestored,
					p.WithAllowNonRestored, len(p.Restored), tt.exit, tt.without, tt.with, tt.restored, p)
			}
			if p.MaxParallelismCheck != MaxParallelismNotChecked {
				t.Errorf("max parallelism check %q: a jar's plan carries none", p.MaxParallelismCheck)
			}
			if got := planNames(p.Dropped); !reflect.DeepEqual(got, tt.dropped) {
				t.Errorf("dropped %q, want %q", got, tt.dropped)
			}
			if got := planNames(p.Unknown); !reflect.DeepEqual(got, tt.unknown) {
				t.Errorf("unknown %q, want %q", got, tt.unknown)
			}
			var size int64
			for _, op := range p.Unknown {
				size += op.StateSize
			}
			if len(p.Unknown) > 0 && (!p.Uncertain || p.UnknownBytes != size || size == 0) {
				t.Errorf("unknown state: uncertain %v, %d bytes (want true, %d)", p.Uncertain, p.UnknownBytes, size)
			}
			for _, op := range p.Unknown {
				if op.Note == "" {
					t.Errorf("unknown %s without a note saying why", op.ID)
				}
			}
		})
	}
}

func planNames(ops []PlanOperator) []string {
	var out []string
	for _, op := range ops {
		out = append(out, firstNonEmpty(op.UID, op.ID))
	}
	return out
}

// A plan whose vertices each hold one operator hides nothing: state no
// vertex claims is dropped for certain, even with no uid known. Keyed
// state restored into a head no keyBy feeds may be ignored: unknown.
func TestPlanResumeAgainstUnchainedJobPlan(t *testing.T) {
	single := func(uid, desc string, keyed bool) PlanVertex {
		v := PlanVertex{ID: snapshot.OperatorIDFromUID(uid), Description: desc, Operators: ChainedOperatorNames(desc), Parallelism: 2}
		if keyed {
			v.Inputs = []PlanInput{{ShipStrategy: "HASH"}}
		}
		return v
	}
	m := jarSnapshot(false)
	target, err := TargetFromJobPlan("jar", &JobPlan{Vertices: []PlanVertex{single("src", "Source: src<br/>", false), single("count", "count<br/>", true)}})
	if err != nil {
		t.Fatal(err)
	}
	p := PlanResume(m, target, nil)
	if p.ExitCode != ExitResumeDropState || len(p.Dropped) != 1 || p.Dropped[0].ID != snapshot.OperatorIDFromUID("list").String() || len(p.Unknown) != 0 {
		t.Errorf("exit %d, dropped %+v, unknown %+v; want the list dropped for certain", p.ExitCode, p.Dropped, p.Unknown)
	}
	target, _ = TargetFromJobPlan("jar", &JobPlan{Vertices: []PlanVertex{single("src", "Source: src<br/>", false),
		single("count", "count<br/>", false), single("list", "list<br/>", false)}})
	p = PlanResume(m, target, nil)
	if p.ExitCode != ExitResumeUnknown || len(p.Unknown) != 1 || p.Unknown[0].ID != snapshot.OperatorIDFromUID("count").String() ||
		!strings.Contains(p.Unknown[0].Note, "keyed") || p.UnknownBytes != 200 {
		t.Errorf("exit %d, unknown %+v (%d bytes); want count's keyed state unknown", p.ExitCode, p.Unknown, p.UnknownBytes)
	}
	if _, err := TargetFromJobPlan("jar", &JobPlan{}); err == nil {
		t.Error("a plan without vertices made a target")
	}
}
