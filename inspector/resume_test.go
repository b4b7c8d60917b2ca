package inspector

import (
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// The rules the engine's restore check applied and the dry run did not (or
// the other way round) before both used PlanResume: coordinator state
// counts as state; keyed state restored into a non-keyed operator does not
// fail (the engine refused it, Flink 2.3 and 1.20 resume) but is lost.
func TestPlanResumeRulesBothCallersShare(t *testing.T) {
	m := planSnapshot()
	m.Operators = m.Operators[:3]
	coord := snapshot.NewOperatorState("enumerator-only", "source", 1, 128)
	coord.CoordinatorState = &snapshot.ByteStreamHandle{Name: "splits", Data: make([]byte, 16)}
	coord.Subtasks = []*snapshot.SubtaskState{{Index: 0}}
	m.Operators = append(m.Operators, coord)
	op := func(uid string, notKeyed bool) TargetOperator {
		return TargetOperator{UID: uid, Parallelism: 2, NotKeyed: notKeyed}
	}
	tests := []struct {
		name          string
		target        []TargetOperator
		exit          int
		without, with Outcome
		ignored       string // uid whose keyed state the new job ignores
		dropped       int
	}{
		{"coordinator state without operator is state to drop", []TargetOperator{op("src", true), op("count", false), op("map", true)},
			ExitResumeDropState, OutcomeFails, OutcomeRestores, "", 1},
		{"keyed state into a non-keyed operator: Flink resumes and ignores it", []TargetOperator{op("src", true), op("count", true), op("map", true), op("enumerator-only", true)},
			ExitResumeDropState, OutcomeRestores, OutcomeRestores, "count", 0},
		{"keyedness unknown (zero value) is not a failure", []TargetOperator{{UID: "src"}, {UID: "count"}, {UID: "map"}, {UID: "enumerator-only"}},
			ExitResumeOK, OutcomeRestores, OutcomeRestores, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanResume(m, Target{Source: "test", Complete: true, Operators: tt.target}, nil)
			if p.ExitCode != tt.exit || p.WithoutAllowNonRestored != tt.without || p.WithAllowNonRestored != tt.with || len(p.Dropped) != tt.dropped {
				t.Errorf("exit %d, %s/%s, %d dropped; want %d, %s/%s, %d (failures %+v)", p.ExitCode, p.WithoutAllowNonRestored,
					p.WithAllowNonRestored, len(p.Dropped), tt.exit, tt.without, tt.with, tt.dropped, p.Failures)
			}
			if tt.ignored != "" && (len(p.KeyedStateIgnored) != 1 || p.KeyedStateIgnored[0].UID != tt.ignored || p.IgnoredBytes != 200) {
				t.Errorf("keyed state ignored %+v (%d bytes), want count's 200 bytes", p.KeyedStateIgnored, p.IgnoredBytes)
			}
			if tt.ignored == "" && len(p.KeyedStateIgnored) != 0 {
				t.Errorf("keyed state ignored %+v", p.KeyedStateIgnored)
			}
			if p.MaxParallelismCheck != MaxParallelismChecked {
				t.Errorf("max parallelism check %q with a job's target", p.MaxParallelismCheck)
			}
		})
	}
}

// A uid list carries no parallelism or max parallelism: the plan maps the
// state but says the max-parallelism check could not be made, and never
// promises a plain "restores".
func TestPlanResumeUIDListMaxParallelismNotChecked(t *testing.T) {
	m := planSnapshot()
	m.Operators = m.Operators[:3]
	for _, tt := range []struct {
		uids          []string
		exit          int
		without, with Outcome
	}{
		{[]string{"src", "count", "map"}, ExitResumeOK, OutcomeRestoresUnchecked, OutcomeRestoresUnchecked},
		{[]string{"src", "map"}, ExitResumeDropState, OutcomeFails, OutcomeRestoresUnchecked},
	} {
		target, err := TargetFromUIDs("uids", tt.uids)
		if err != nil {
			t.Fatal(err)
		}
		p := PlanResume(m, target, nil)
		if p.MaxParallelismCheck != MaxParallelismNotChecked || p.ExitCode != tt.exit ||
			p.WithoutAllowNonRestored != tt.without || p.WithAllowNonRestored != tt.with {
			t.Errorf("%v: check %q, exit %d, %s/%s; want %q, %d, %s/%s", tt.uids, p.MaxParallelismCheck, p.ExitCode,
				p.WithoutAllowNonRestored, p.WithAllowNonRestored, MaxParallelismNotChecked, tt.exit, tt.without, tt.with)
		}
		for _, r := range p.Restored {
			if r.NewMaxParallelism != 0 || r.Note != "" {
				t.Errorf("%s: a uid list claims max parallelism %d (%q)", r.UID, r.NewMaxParallelism, r.Note)
			}
		}
	}
}

// Max parallelism per job vertex: a target built as a job graph does it
// (every operator of a chain with the head's value) restores a snapshot
// whose chained operators recorded the head's value, though one of them
// configured its own.
func TestPlanResumeChainedMaxParallelism(t *testing.T) {
	m := planSnapshot()
	m.Operators = m.Operators[:3] // count (keyed head) → map chained, both 128 in the snapshot
	chained := func(mapMP int, configured bool) []TargetOperator {
		return []TargetOperator{
			{UID: "src", Parallelism: 2, MaxParallelism: 128, NotKeyed: true},
			{UID: "count", Parallelism: 2, MaxParallelism: mapMP, MaxParallelismConfigured: configured},
			{UID: "map", Parallelism: 2, MaxParallelism: mapMP, MaxParallelismConfigured: configured, NotKeyed: true},
		}
	}
	if p := PlanResume(m, Target{Operators: chained(128, true)}, nil); p.ExitCode != ExitResumeOK {
		t.Errorf("head configured as in the snapshot: exit %d %+v", p.ExitCode, p.Failures)
	}
	p := PlanResume(m, Target{Operators: chained(256, false)}, nil)
	if p.ExitCode != ExitResumeOK || p.Restored[2].NewMaxParallelism != 128 {
		t.Errorf("head derived: exit %d, map's new max parallelism %d (want the adopted 128)", p.ExitCode, p.Restored[2].NewMaxParallelism)
	}
	if p := PlanResume(m, Target{Operators: chained(256, true)}, nil); p.ExitCode != ExitResumeFails || len(p.Failures) != 2 {
		t.Errorf("head configured differently: exit %d, failures %+v (want count and the chained map)", p.ExitCode, p.Failures)
	}
}
