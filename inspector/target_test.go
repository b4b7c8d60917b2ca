package inspector

import (
	"reflect"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
)

func TestTargetMappingEntries(t *testing.T) {
	id := snapshot.OperatorIDFromUID("anything")
	tests := []struct {
		name string
		ops  []TargetOperator
		want []string
	}{
		{"uid wins over name and id", []TargetOperator{{UID: "src", Name: "Source", ID: id}}, []string{"src"}},
		{"named, no uid", []TargetOperator{{Name: "count", ID: id}}, []string{"(count)=hash:" + id.String()}},
		{"no name, no uid", []TargetOperator{{ID: id}}, []string{"(no uid)=hash:" + id.String()}},
		{"nothing known is left out", []TargetOperator{{Name: "ghost"}}, nil},
		{"order kept", []TargetOperator{{UID: "b"}, {UID: "a"}}, []string{"b", "a"}},
	}
	for _, tt := range tests {
		got := Target{Operators: tt.ops}.MappingEntries()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	// The mapping names the generated ID after the operator.
	m, err := Target{Source: "job spec x", Operators: []TargetOperator{{Name: "count", ID: id}, {UID: "src"}}}.Mapping()
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Lookup(id); !ok || got != "(count)" {
		t.Errorf("Lookup(generated id) = %q %v, want (count)", got, ok)
	}
	if got, ok := m.Lookup(snapshot.OperatorIDFromUID("src")); !ok || got != "src" {
		t.Errorf("Lookup(src) = %q %v", got, ok)
	}
}
