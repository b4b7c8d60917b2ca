package inspector

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

func typ(k state.Kind) *state.Type { return &state.Type{Kind: k} }

// The declared schema of the fixture's window operator as Flink wrote it:
// key Tuple1<Integer>, "count" a REDUCING Long state in GlobalWindow.
func windowSchema(key *state.Type, kind string, ns, value *state.Type) *DeclaredSchema {
	return &DeclaredSchema{Key: key, States: []DeclaredState{{Name: "count", Kind: kind, Namespace: ns, Value: value}}}
}

var tuple1Int = &state.Type{Kind: state.KindTuple, Class: "org.apache.flink.api.java.tuple.Tuple1", Fields: []state.Field{{Name: "f0", Type: typ(state.KindInt)}}}

// AssessUpgrade over real Flink snapshots (the fixtures whose state is
// inline in _metadata, so the stream heads are there to read).
func TestAssessUpgradeFixtures(t *testing.T) {
	type want struct {
		risks   []string // "uid/state/risk", in order
		refused int
		exit    int
		unread  string // a reason every unread operator gives; "" = none unread
	}
	cases := []struct {
		name     string
		fixture  string
		uids     []string
		declared map[string]*DeclaredSchema // by uid
		want     want
	}{
		{"java serialization in operator state", "operatorstate_complexKeyed-flink1.20", []string{"first", "second", "window"}, nil,
			want{risks: []string{"second/_default_/java_serialization", "first/_default_/java_serialization"}}},
		{"declared types as written: nothing refused", "operatorstate_complexKeyed-flink1.20", []string{"first", "second", "window"},
			map[string]*DeclaredSchema{"window": windowSchema(tuple1Int, "REDUCING", typ(state.KindGlobalWindow), typ(state.KindLong))},
			want{risks: []string{"second/_default_/java_serialization", "first/_default_/java_serialization"}}},
		{"a ckpt count on Flink's window operator: key and kind refused", "operatorstate_complexKeyed-flink1.20", []string{"first", "second", "window"},
			map[string]*DeclaredSchema{"window": windowSchema(typ(state.KindString), "VALUE", typ(state.KindVoidNamespace), typ(state.KindLong))},
			want{risks: []string{"window//incompatible_serializer", "window/count/state_kind_changed", "second/_default_/java_serialization", "first/_default_/java_serialization"},
				refused: 2, exit: ExitResumeFails}},
		{"value type changed", "operatorstate_complexKeyed-flink1.20", []string{"first", "second", "window"},
			map[string]*DeclaredSchema{"window": windowSchema(tuple1Int, "REDUCING", typ(state.KindGlobalWindow), typ(state.KindString))},
			want{risks: []string{"window/count/incompatible_serializer", "second/_default_/java_serialization", "first/_default_/java_serialization"},
				refused: 1, exit: ExitResumeFails}},
		{"namespace changed", "operatorstate_complexKeyed-flink1.20", []string{"first", "second", "window"},
			map[string]*DeclaredSchema{"window": windowSchema(tuple1Int, "REDUCING", typ(state.KindTimeWindow), typ(state.KindLong))},
			want{risks: []string{"window/count/incompatible_serializer", "second/_default_/java_serialization", "first/_default_/java_serialization"},
				refused: 1, exit: ExitResumeFails}},
		{"Long and String only: no risk", "new-stateful-udf-migration-itcase-flink1.10-savepoint",
			strings.Split("CheckpointingSource1,CheckpointingSource2,CheckpointingKeyedStateFlatMap1,CheckpointingKeyedStateFlatMap2,CheckpointingTimelyStatefulOperator1,CheckpointingTimelyStatefulOperator2", ","), nil,
			want{}},
		{"legacy serializer snapshots: unread, with Flink's reason", "new-stateful-udf-migration-itcase-flink1.7-savepoint",
			strings.Split("CheckpointingSource1,CheckpointingSource2,CheckpointingKeyedStateFlatMap1,CheckpointingKeyedStateFlatMap2,CheckpointingTimelyStatefulOperator1,CheckpointingTimelyStatefulOperator2", ","), nil,
			want{unread: "legacy TypeSerializerConfigSnapshot"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fsys := storage.NewLocal()
			m, err := snapshot.Read(ctx, fsys, filepath.Join(fixtureDir(t, tc.fixture), "_metadata"))
			if err != nil {
				t.Fatal(err)
			}
			target, err := TargetFromUIDs("test", tc.uids)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range target.Operators {
				target.Operators[i].Declared = tc.declared[o.UID]
			}
			plan := PlanResume(m, target, nil)
			before := plan.ExitCode
			u := AssessUpgrade(ctx, fsys, m, plan, target)
			if plan.Upgrade != u {
				t.Fatal("plan.Upgrade not set")
			}
			var got []string
			for _, r := range u.Risks {
				got = append(got, r.UID+"/"+r.State+"/"+string(r.Risk))
				if r.Detail == "" || r.Type == "" {
					t.Errorf("risk without detail or type: %+v", r)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want.risks, " ") {
				t.Errorf("risks %v, want %v", got, tc.want.risks)
			}
			refused := 0
			for _, r := range u.Risks {
				if r.Refused {
					refused++
				}
			}
			if refused != tc.want.refused || u.Refused() != (refused > 0) || len(plan.Failures) != refused {
				t.Errorf("%d refused (%d failures), want %d", refused, len(plan.Failures), tc.want.refused)
			}
			if wantExit := max(before, tc.want.exit); plan.ExitCode != wantExit {
				t.Errorf("exit code %d, want %d", plan.ExitCode, wantExit)
			}
			if u.TypesChecked != (tc.declared != nil) {
				t.Errorf("TypesChecked %v", u.TypesChecked)
			}
			if tc.want.unread == "" && len(u.Unread) > 0 {
				t.Errorf("unread: %+v", u.Unread)
			}
			if tc.want.unread != "" {
				if len(u.Unread) == 0 {
					t.Error("nothing unread")
				}
				for _, g := range u.Unread {
					if !strings.Contains(g.Reason, tc.want.unread) || g.Engine {
						t.Errorf("unread %+v, want a reason with %q", g, tc.want.unread)
					}
				}
			}
		})
	}
}

// Risks over hand-built schemas: what no fixture has (Kryo, TTL).
func TestRisks(t *testing.T) {
	kryo := &state.Type{Kind: state.KindKryo, Class: "com.acme.Event"}
	ttlLong := &state.Type{Kind: state.KindTTL, Elem: typ(state.KindLong)}
	tuple := &state.Type{Kind: state.KindTuple, Class: "org.apache.flink.api.java.tuple.Tuple2", Fields: []state.Field{{Name: "f0", Type: kryo}, {Name: "f1", Type: typ(state.KindLong)}}}
	meta := func(name, kind string, value *state.Type) *state.Meta {
		return &state.Meta{Name: name, Type: state.KeyValue, Options: map[string]string{state.OptionKeyedStateType: kind},
			Serializers: map[string]*state.Type{state.RoleNamespace: typ(state.KindVoidNamespace), state.RoleValue: value}}
	}
	keyed := func(key *state.Type, ms ...*state.Meta) []state.OperatorSchema {
		return []state.OperatorSchema{{ID: "00000000000000000000000000000001", UID: "op", Keyed: &state.KeyedProxy{Key: key, States: ms}}}
	}
	cases := []struct {
		name     string
		version  int
		schema   []state.OperatorSchema
		declared *DeclaredSchema
		want     []string // "risk state refused detail-part"
		guidance bool
	}{
		{"Kryo inside a Tuple, written by Flink 1.x", snapshot.Version4, keyed(typ(state.KindString), meta("events", "VALUE", tuple)), nil,
			[]string{"kryo events false Kryo 2"}, true},
		{"Kryo written by Flink 2.x", snapshot.Version6, keyed(kryo, meta("n", "VALUE", typ(state.KindLong))), nil,
			[]string{"kryo  false Kryo 5"}, true},
		{"TTL", snapshot.Version6, keyed(typ(state.KindString), meta("seen", "VALUE", ttlLong)), nil,
			[]string{"ttl seen false same TTL"}, false},
		{"TTL of a map value", snapshot.Version6, keyed(typ(state.KindString), meta("m", "MAP", &state.Type{Kind: state.KindMap, Key: typ(state.KindString), Value: ttlLong})), nil,
			[]string{"ttl m false same TTL"}, false},
		{"TTL turned off by the new job", snapshot.Version6, keyed(typ(state.KindString), meta("seen", "VALUE", ttlLong)),
			&DeclaredSchema{Key: typ(state.KindString), States: []DeclaredState{{Name: "seen", Kind: "VALUE", Value: typ(state.KindLong)}}},
			[]string{"incompatible_serializer seen true TTL turned off", "ttl seen false same TTL"}, false},
		{"TTL turned on by the new job", snapshot.Version6, keyed(typ(state.KindString), meta("seen", "VALUE", typ(state.KindLong))),
			&DeclaredSchema{Key: typ(state.KindString), States: []DeclaredState{{Name: "seen", Kind: "VALUE", Value: ttlLong}}},
			[]string{"incompatible_serializer seen true TTL turned on"}, false},
		{"a POJO of another class", snapshot.Version6, keyed(typ(state.KindString), meta("p", "VALUE", &state.Type{Kind: state.KindPojo, Class: "a.B"})),
			&DeclaredSchema{States: []DeclaredState{{Name: "p", Kind: "VALUE", Value: &state.Type{Kind: state.KindPojo, Class: "a.C"}}}},
			[]string{"incompatible_serializer p true class a.C was a.B"}, false},
		{"same POJO class evolves: restored", snapshot.Version6, keyed(typ(state.KindString), meta("p", "VALUE", &state.Type{Kind: state.KindPojo, Class: "a.B"})),
			&DeclaredSchema{States: []DeclaredState{{Name: "p", Kind: "VALUE", Value: &state.Type{Kind: state.KindPojo, Class: "a.B"}}}},
			nil, false},
		{"a state only the new job has starts empty", snapshot.Version6, keyed(typ(state.KindString), meta("a", "VALUE", typ(state.KindLong))),
			&DeclaredSchema{States: []DeclaredState{{Name: "b", Kind: "LIST", Value: typ(state.KindString)}}},
			nil, false},
		{"Kryo broadcast key", snapshot.Version3, []state.OperatorSchema{{ID: "00000000000000000000000000000002", Operator: &state.OperatorProxy{
			Broadcast: []*state.Meta{{Name: "rules", Type: state.Broadcast, Options: map[string]string{state.OptionDistributionMode: "BROADCAST"},
				Serializers: map[string]*state.Type{state.RoleKey: kryo, state.RoleValue: typ(state.KindString)}}}}}}, nil,
			[]string{"kryo rules false Kryo 2"}, true},
		{"Java serialization in a list", snapshot.Version6, keyed(typ(state.KindString), meta("l", "LIST", &state.Type{Kind: state.KindList, Elem: typ(state.KindJava)})), nil,
			[]string{"java_serialization l false serialVersionUID"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			declared := map[string]*DeclaredSchema{}
			if tc.declared != nil {
				declared[tc.schema[0].ID] = tc.declared
			}
			u := Risks(tc.version, tc.schema, declared)
			if len(u.Risks) != len(tc.want) {
				t.Fatalf("risks %+v, want %v", u.Risks, tc.want)
			}
			for i, w := range tc.want {
				f := strings.SplitN(w, " ", 4)
				r := u.Risks[i]
				if string(r.Risk) != f[0] || r.State != f[1] || (f[2] == "true") != r.Refused || !strings.Contains(r.Detail, f[3]) {
					t.Errorf("risk %d: %+v, want %s", i, r, w)
				}
			}
			if (u.KryoGuidance != "") != tc.guidance {
				t.Errorf("guidance %q", u.KryoGuidance)
			}
		})
	}
}
