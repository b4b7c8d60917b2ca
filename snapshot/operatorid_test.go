package snapshot

import (
	"strings"
	"testing"
)

// Vectors from the format doc §7.1 and SOURCES.md: each ID occurs in a real
// Flink `_metadata` fixture and the uid comes from the job that wrote it.
var uidVectors = []struct{ uid, id string }{
	{"CheckpointingSource1", "69f32d314b97c6f7f9ed7873983167f2"},
	{"CheckpointingSource2", "1f2b5df5a66154aca61fcb26193792be"},
	{"CheckpointingKeyedStateFlatMap1", "d5c8b168c6cbfe8c507a10f88b325243"},
	{"CheckpointingKeyedStateFlatMap2", "dab25811652d3d4983a30c6e4afacb1c"},
	{"CheckpointingTimelyStatefulOperator1", "4b818c7923a927796d24b727201ba34d"},
	{"CheckpointingTimelyStatefulOperator2", "41e91aae0bee218c44306cf7d21940ad"},
	{"BrCheckpointingSource1", "81afaf64abeedc40a0f29989b81a3659"},
	{"BrCheckpointingSource2", "63dd9c79b328282531c0a8c5cb466735"},
	{"BrProcess1", "12d7d939fd56473cac7cff0603179a41"},
	{"BrProcess2", "56a26c4c54bda3adf3700194db4afe93"},
	{"first", "adf090656b210b1609ad3203d4ee7329"},
	{"second", "6730ef7375fb60f9d9bbdfdfd174d803"},
	{"third", "013ef814c76e319e5fe9a82a3ba14933"},
	{"window", "01203aa9a12dc1ec725e03853dd7c8f2"},
	{"my-map", "46fe65c20d95ac360c296fef8820108c"},
	{"my-sink", "08d61ee4306bec6e8142e563f528e3bd"},
	{"checkpointedSource", "4df504eeb6a1733fdcdc90f79c5fcb20"},
	{"LegacyCheckpointedOperator", "945350bceda4bf93ffcce1f8cb34a22f"},
	{"LegacyCheckpointedFlatMapWithKeyedState", "b6f2d694289c3a40c7b6f325a615a3cf"},
	{"KeyedStateSettingFlatMap", "072c4efc280f5df0bfc5743297a438e7"},
	{"TimelyStatefulOperator", "a4996af65a2244bbdc67412e4f681060"},
	{"1c4ec0f9-2d96-46e9-99ea-45e8c3df5202", "709a96cf35a587d849796342cfd36979"},
	{"1_source", "d3f21cabc6fe0fdf76c8be915bdb22a2"},
	{"2_calc", "80d5a788fcf41d1608d5ea6cc404a286"},
	{"3_sink", "33d9da1ec658786e43c6e2897c9e6bac"},
	{"4_group-aggregate", "23eaad2bb152dd975bbc63554c2ca61f"},
	{"5_calc", "fed2c35a7532f33e4f66f025be7d61da"},
	{"6_constraint-validator", "82c1bd857fab083666f4a33180890215"},
	{"6_sink", "271cb45db5f81667865cd63a43794900"},
	// Guava's own murmur3_128 test vector.
	{"The quick brown fox jumps over the lazy dog", "6c1b07bc7bbc4be347939ac4a93c437a"},
}

func TestOperatorIDFromUID(t *testing.T) {
	for _, v := range uidVectors {
		if got := OperatorIDFromUID(v.uid).String(); got != v.id {
			t.Errorf("OperatorIDFromUID(%q) = %s, want %s", v.uid, got, v.id)
		}
	}
}

func TestGeneratedOperatorID(t *testing.T) {
	tests := []struct {
		name             string
		position, chains int
		inputs           []string
		want             string
	}{
		{"source without chained output", 0, 0, nil, "bc764cd8ddf7a0cff126f51c16239658"},
		{"source with one chained successor", 0, 1, nil, "cbc357ccb763df2852fee8c4fc7d55f2"},
		{"type-serializer fixture node 1", 1, 1, []string{"bc764cd8ddf7a0cff126f51c16239658"}, "20ba6b65f97481d5570070de90e4e791"},
		{"type-serializer fixture node 2", 2, 0, []string{"20ba6b65f97481d5570070de90e4e791"}, "c09dc291fad93d575e015871097bfc60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ins []OperatorID
			for _, s := range tt.inputs {
				ins = append(ins, mustID(t, s))
			}
			if got := GeneratedOperatorID(tt.position, tt.chains, ins...).String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseOperatorID(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"69f32d314b97c6f7f9ed7873983167f2", "69f32d314b97c6f7f9ed7873983167f2", ""},
		{" 69F32D314B97C6F7F9ED7873983167F2\n", "69f32d314b97c6f7f9ed7873983167f2", ""},
		{"69f32d31", "", "want 32 hex digits"},
		{"zzf32d314b97c6f7f9ed7873983167f2", "", "not hex"},
	}
	for _, tt := range tests {
		id, err := ParseOperatorID(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseOperatorID(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || id.String() != tt.want {
			t.Errorf("ParseOperatorID(%q) = %v, %v", tt.in, id, err)
		}
	}
	id := mustID(t, "69f32d314b97c6f7f9ed7873983167f2")
	if back := OperatorIDFromParts(id.LowerPart(), id.UpperPart()); back != id {
		t.Errorf("parts round trip: %s != %s", back, id)
	}
}

func TestKeyGroupRangeFor(t *testing.T) {
	// Flink's KeyGroupRangeAssignment for maxP 128, p 3: [0..42] [43..85] [86..127].
	want := []KeyGroupRange{{0, 43}, {43, 43}, {86, 42}}
	for i, w := range want {
		if got := KeyGroupRangeFor(128, 3, int32(i)); got != w {
			t.Errorf("subtask %d: %v, want %v", i, got, w)
		}
	}
}

func mustID(t testing.TB, s string) OperatorID {
	t.Helper()
	id, err := ParseOperatorID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
