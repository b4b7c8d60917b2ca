package graph

import (
	"errors"
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
	chain := func(n int, p int) func() *Graph {
		return func() *Graph {
			g := New("j")
			s := g.Source("s", src).Parallelism(p)
			for i := 1; i < n; i++ {
				s = s.Process("m", op).Parallelism(p)
			}
			return g
		}
	}
	tests := []struct {
		name   string
		build  func() *Graph
		defP   int
		vertex int
		want   string
	}{
		{"duplicate uid", func() *Graph {
			g := New("j")
			g.Source("s", src).UID("x").Process("m", op).UID("x")
			return g
		}, 1, 1, `uid "x" used twice: operator "s" (uid x) has it too`},
		{"parallelism above max parallelism", func() *Graph {
			g := New("j")
			g.Source("s", src).Parallelism(300).MaxParallelism(128)
			return g
		}, 1, 0, "parallelism 300 exceeds max parallelism 128"},
		{"max parallelism above Flink's 32768", func() *Graph {
			g := New("j")
			g.Source("s", src).MaxParallelism(32769)
			return g
		}, 1, 0, "max parallelism 32769: must be between 1 and 32768"},
		{"operator parallelism above the engine's limit", chain(2, 1025), 1, 0, "parallelism 1025 is above the embedded engine's limit of 1024 per operator"},
		{"default parallelism above the engine's limit", chain(1, 0), 10000, 0, "parallelism 10000 is above the embedded engine's limit of 1024 per operator"},
		{"too many subtasks in the job", chain(5, 1000), 1, 4, "more than 4096 subtasks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.build()
			err := g.Finalize(tt.defP, 0)
			var ve *VertexError
			if !errors.As(err, &ve) || ve.Vertex != g.Vertices[tt.vertex] || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Finalize = %v; want a VertexError of vertex %d with %q", err, tt.vertex, tt.want)
			}
		})
	}
	if err := chain(4, 1024)().Finalize(1, 0); err != nil {
		t.Fatalf("4 operators at parallelism 1024 (at both limits): %v", err)
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

// Max parallelism is per job vertex, as in Flink: every operator of a
// chain gets the chain head's (its own, the job's default, or derived),
// whatever the chained operator set itself; the snapshots the job writes
// record that value for each of them.
func TestMaxParallelismPerChain(t *testing.T) {
	build := func(headMP int) *Graph {
		g := New("j")
		g.Source("s", src).UID("src").MaxParallelism(512).
			KeyBy().Process("count", op).UID("count").MaxParallelism(headMP).
			Process("list", op).UID("list").MaxParallelism(64).
			Sink("sink", op).UID("sink").MaxParallelism(1) // below the parallelism: ignored, not an error
		return g
	}
	tests := []struct {
		name       string
		headMP     int
		jobMP      int
		want       int
		derived    bool
		parallel   int
		srcMP      int
		srcDerived bool
	}{
		{"head configured", 256, 0, 256, false, 2, 512, false},
		{"head derived", 0, 0, 128, true, 2, 512, false},
		{"head from the job's default", 0, 1024, 1024, false, 2, 512, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.headMP)
			if err := g.Finalize(tt.parallel, tt.jobMP); err != nil {
				t.Fatal(err)
			}
			if len(g.Chains()) != 2 {
				t.Fatalf("chains %v, want source | count → list → sink", g.Chains())
			}
			for _, v := range g.Vertices[1:] {
				if v.MaxParallelism != tt.want || v.MaxParallelismDerived != tt.derived {
					t.Errorf("%s: max parallelism %d (derived %v), want the head's %d (derived %v)", v.UID, v.MaxParallelism, v.MaxParallelismDerived, tt.want, tt.derived)
				}
				if h := g.ChainHead(v); h != g.Vertices[1] {
					t.Errorf("%s: chain head %s, want count", v.UID, h.UID)
				}
			}
			if s := g.Vertices[0]; s.MaxParallelism != tt.srcMP || s.MaxParallelismDerived != tt.srcDerived {
				t.Errorf("source: max parallelism %d", s.MaxParallelism)
			}
			// Idempotent.
			if err := g.Finalize(tt.parallel, tt.jobMP); err != nil || g.Vertices[3].MaxParallelism != tt.want {
				t.Errorf("second Finalize: %v, sink max parallelism %d", err, g.Vertices[3].MaxParallelism)
			}
			target := g.ResumeTarget("test")
			for i, o := range target.Operators {
				v := g.Vertices[i]
				if o.MaxParallelism != v.MaxParallelism || o.MaxParallelismConfigured == v.MaxParallelismDerived || o.NotKeyed == v.Keyed || o.ID != v.ID {
					t.Errorf("target operator %+v does not match vertex %s", o, v.UID)
				}
			}
		})
	}
}
