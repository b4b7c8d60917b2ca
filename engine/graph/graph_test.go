package graph

import (
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/operator"
)

func src() operator.Source { return nil }
func op() operator.Operator {
	return &operator.Map{Fn: func(r operator.Record) operator.Record { return r }}
}

// Operator IDs must be Flink's: murmur3 of the uid, or the structural hash
// for operators without one. The expected values occur in real Flink
// _metadata files (see flink-metadata-format.md §7).
func TestOperatorIDsMatchFlink(t *testing.T) {
	tests := []struct {
		name  string
		build func() *Graph
		want  []string
	}{
		{"uids", func() *Graph {
			g := New("j")
			g.Source("s", src).UID("my-map").Process("sink", op).UID("my-sink")
			return g
		}, []string{"46fe65c20d95ac360c296fef8820108c", "08d61ee4306bec6e8142e563f528e3bd"}},
		{"lone source", func() *Graph {
			g := New("j")
			g.Source("s", src)
			return g
		}, []string{"bc764cd8ddf7a0cff126f51c16239658"}},
		{"source chained to successor", func() *Graph {
			g := New("j")
			g.Source("s", src).Process("m", op).UID("m")
			return g
		}, []string{"cbc357ccb763df2852fee8c4fc7d55f2"}},
		{"flink 1.3 fixture chain", func() *Graph {
			g := New("j")
			g.Source("s", src).Parallelism(1).Process("a", op).Parallelism(2).Process("b", op).Parallelism(2)
			return g
		}, []string{"bc764cd8ddf7a0cff126f51c16239658", "20ba6b65f97481d5570070de90e4e791", "c09dc291fad93d575e015871097bfc60"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.build()
			if err := g.Finalize(1, 0); err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.want {
				if got := g.Vertices[i].ID.String(); got != want {
					t.Errorf("vertex %d: ID %s, want %s", i, got, want)
				}
			}
		})
	}
}

// Changing the graph changes the IDs of operators without uid and keeps
// those with one.
func TestGraphChangeChangesGeneratedIDs(t *testing.T) {
	a := New("j")
	a.Source("s", src).UID("src").Process("m", op).KeyBy().Process("count", op)
	b := New("j")
	b.Source("s", src).UID("src").Process("m", op).Process("extra", op).KeyBy().Process("count", op)
	a.Finalize(2, 0)
	b.Finalize(2, 0)
	if a.Vertices[0].ID != b.Vertices[0].ID {
		t.Fatal("uid'd source ID changed")
	}
	if a.Vertices[2].ID == b.Vertices[3].ID {
		t.Fatal("unnamed count operator kept its ID although the graph changed")
	}
}

func TestFinalizeErrors(t *testing.T) {
	g := New("j")
	g.Source("s", src).UID("x").Process("m", op).UID("x")
	if err := g.Finalize(1, 0); err == nil || !strings.Contains(err.Error(), "uid \"x\" used twice") {
		t.Fatalf("duplicate uid: %v", err)
	}
	g = New("j")
	g.Source("s", src).Parallelism(300).MaxParallelism(128)
	if err := g.Finalize(1, 0); err == nil || !strings.Contains(err.Error(), "exceeds max parallelism") {
		t.Fatalf("parallelism > max: %v", err)
	}
}

func TestChainsAndEdges(t *testing.T) {
	g := New("j")
	g.Source("s", src).Parallelism(1).Process("m", op).Parallelism(1).
		KeyBy().Process("count", op).Parallelism(2).Process("sink", op).Parallelism(2)
	if err := g.Finalize(1, 0); err != nil {
		t.Fatal(err)
	}
	chains := g.Chains()
	if len(chains) != 2 || len(chains[0]) != 2 || len(chains[1]) != 2 {
		t.Fatalf("chains = %v", chains)
	}
	if g.Vertices[2].Inputs[0].Partitioning != Hash || !g.Vertices[2].Keyed {
		t.Fatal("keyBy edge not hash")
	}
	if g.Vertices[2].MaxParallelism != 128 {
		t.Fatalf("default max parallelism %d", g.Vertices[2].MaxParallelism)
	}
}
