package snapshot

import (
	"strings"
	"testing"
)

// Every operator of every fixture is accounted for by SOURCES.md: either
// the hash of a uid the writing job set, or one of the auto-generated IDs
// listed there (reproduced with GeneratedOperatorID where SOURCES.md
// derives them).
func TestFixtureOperatorsAreTheSourcesUIDs(t *testing.T) {
	migration := []string{"CheckpointingSource1", "CheckpointingSource2", "CheckpointingKeyedStateFlatMap1",
		"CheckpointingKeyedStateFlatMap2", "CheckpointingTimelyStatefulOperator1", "CheckpointingTimelyStatefulOperator2"}
	src := HashNodePosition(0, 0)
	node1 := GeneratedOperatorID(1, 1, src)
	node2 := GeneratedOperatorID(2, 0, node1)
	jobs := []struct {
		match string // fixture name contains
		uids  []string
		auto  []string
	}{
		{"new-stateful-udf-migration-itcase", migration, []string{"330bf7ad4176e7c36829a4bf9459db07", "06d8049845c382d79d17d43c9ef349f7"}},
		{"new-stateful-broadcast-udf-migration-itcase", []string{"CheckpointingSource1", "CheckpointingSource2",
			"BrCheckpointingSource1", "BrCheckpointingSource2", "BrProcess1", "BrProcess2"},
			[]string{"1193727a1a9000f62a57b95f97a0f7c9", "6a5da2ed9f898786a971ec9eb755e20b"}},
		{"stateful-udf-migration-itcase-flink1.4", []string{"LegacyCheckpointedOperator", "LegacyCheckpointedFlatMapWithKeyedState",
			"KeyedStateSettingFlatMap", "TimelyStatefulOperator"}, []string{"dc13112238fd8401d96a52b6fb2a682a"}},
		{"type-serializer-snapshot-migration-itcase", nil, []string{src.String(), node1.String(), node2.String()}},
		{"operatorstate_nonKeyed", []string{"first", "second", "third"}, []string{"1265f98db15949b4489d98bcba215148"}},
		{"operatorstate_complexKeyed", []string{"first", "second", "window"}, []string{"bc764cd8ddf7a0cff126f51c16239658"}},
		{"flink-state-evolution-test", []string{"my-map", "my-sink"}, nil},
		{"stateful-scala-udf-migration-itcase", []string{"checkpointedSource"},
			[]string{"d1392353922252257afa15351a98bae9", "311e8aa7918feea773fb3d9a8307a118"}},
		{"unified-sink-migration-test", []string{"1c4ec0f9-2d96-46e9-99ea-45e8c3df5202"},
			[]string{HashNodePosition(0, 1).String(), "4823ae75213a57b57c5ccbb78b9cbe49", "7df19f87deec5680128845fd9a6ca18d"}},
		{"legacy-raw-state-heap-timers", nil, []string{"cbc357ccb763df2852fee8c4fc7d55f2", "17fbfcaabad45985bbdf4da0490487e3",
			"90bea66de1c231edf33913ecd54406c1", "7df19f87deec5680128845fd9a6ca18d"}},
		{"stream-exec-calc", []string{"1_source", "2_calc", "3_sink"}, nil},
		{"stream-exec-group-aggregate", []string{"1_source", "2_calc", "4_group-aggregate", "5_calc", "6_constraint-validator", "6_sink"}, nil},
	}
	for _, f := range fixtures(t) {
		var job *struct {
			match string
			uids  []string
			auto  []string
		}
		for i := range jobs {
			// The migration entries overlap by prefix; the longest match wins.
			if strings.Contains(f.name, jobs[i].match) && (job == nil || len(jobs[i].match) > len(job.match)) {
				job = &jobs[i]
			}
		}
		if job == nil {
			t.Errorf("%s: no job in SOURCES.md", f.name)
			continue
		}
		m, err := Unmarshal(readFixture(t, f))
		if err != nil {
			t.Fatal(err)
		}
		known := map[OperatorID]string{}
		for _, u := range job.uids {
			known[OperatorIDFromUID(u)] = u
		}
		for _, a := range job.auto {
			known[mustID(t, a)] = "(auto)"
		}
		usedUIDs := map[string]bool{}
		for _, op := range m.Operators {
			name, ok := known[op.ID]
			if !ok {
				t.Errorf("%s: operator %s is neither a uid's hash nor a listed auto ID", f.name, op.ID)
			}
			usedUIDs[name] = true
		}
		for _, u := range job.uids {
			// Every listed uid occurs in every fixture of its job.
			if !usedUIDs[u] {
				t.Errorf("%s: uid %q (%s) not in the file", f.name, u, OperatorIDFromUID(u))
			}
		}
	}
}
