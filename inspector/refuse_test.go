package inspector

import "testing"

func TestResumePlanRefuse(t *testing.T) {
	fail := []PlanFailure{{ID: "a", Reason: "max parallelism 128 of operator a differs from 256"}}
	one := []PlanOperator{{ID: "b"}}
	two := []PlanOperator{{ID: "b"}, {ID: "c"}}
	tests := []struct {
		name     string
		plan     ResumePlan
		allowNR  bool
		wantCode int // 0: not refused
		want     string
	}{
		{"everything restores", ResumePlan{Restored: one}, false, 0, ""},
		{"new operators start empty", ResumePlan{New: two}, false, 0, ""},
		{"stateless skipped", ResumePlan{SkippedEmpty: two}, false, 0, ""},
		{"dropped without -n", ResumePlan{Dropped: one, DroppedBytes: 2000}, false, ExitResumeDropState,
			"1 operator's state (1.95 KiB) has no operator in the new job"},
		{"two dropped without -n", ResumePlan{Dropped: two, DroppedBytes: 10}, false, ExitResumeDropState,
			"2 operators' state (10 B) has no operator in the new job"},
		{"dropped with -n", ResumePlan{Dropped: two, DroppedBytes: 10}, true, 0, ""},
		{"fails even with -n", ResumePlan{Failures: fail}, true, ExitResumeFails,
			"Flink refuses this resume even with -n: max parallelism 128 of operator a differs from 256"},
		{"failure wins over dropped", ResumePlan{Failures: fail, Dropped: one}, false, ExitResumeFails,
			"Flink refuses this resume even with -n: max parallelism 128 of operator a differs from 256"},
	}
	for _, tt := range tests {
		r := tt.plan.Refuse(tt.allowNR)
		switch {
		case tt.wantCode == 0 && r != nil:
			t.Errorf("%s: refused (%d, %s), want allowed", tt.name, r.ExitCode, r.Reason)
		case tt.wantCode != 0 && r == nil:
			t.Errorf("%s: allowed, want refused with %d", tt.name, tt.wantCode)
		case r != nil && (r.ExitCode != tt.wantCode || r.Reason != tt.want):
			t.Errorf("%s: (%d, %q), want (%d, %q)", tt.name, r.ExitCode, r.Reason, tt.wantCode, tt.want)
		}
	}
}
