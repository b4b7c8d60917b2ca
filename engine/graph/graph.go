// Package graph is a job's logical plan: operators (vertices) with uid,
// name, parallelism and max parallelism, connected by forward, hash (keyBy)
// or rebalance edges, and the operator IDs under which their state is
// stored. A Stream builder gives the DataStream-style API:
//
//	g := graph.New("counts")
//	g.Source("gen", newGen).UID("gen").
//		KeyBy().Process("count", newCount).UID("count").
//		Sink("out", newSink).UID("sink")
package graph

import (
	"fmt"
	"sort"

	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// Partitioning says how records move along an edge.
type Partitioning int

const (
	// Forward keeps records on the same subtask index (equal parallelism).
	Forward Partitioning = iota
	// Hash sends each record to the subtask owning its key group (keyBy).
	Hash
	// Rebalance spreads records round-robin.
	Rebalance
)

func (p Partitioning) String() string {
	return [...]string{"FORWARD", "HASH", "REBALANCE"}[p]
}

// Edge is one input of a vertex.
type Edge struct {
	From         int
	Partitioning Partitioning
}

// Vertex is one operator of the job.
type Vertex struct {
	Index int
	UID   string
	Name  string
	// Kind names the built-in or user function (for display).
	Kind           string
	Parallelism    int // 0 = job default
	MaxParallelism int // 0 = job default / derived
	// MaxParallelismDerived: Finalize derived MaxParallelism from the
	// parallelism because neither the vertex nor the job configured one.
	// A restore may then adopt the snapshot's, as Flink does.
	MaxParallelismDerived bool
	// Keyed operators consume a hash-partitioned input and own keyed state.
	Keyed     bool
	NewSource func() operator.Source
	NewOp     func() operator.Operator
	Inputs    []Edge
	Outputs   []int
	// ID is assigned by Finalize: from the uid, or from the vertex's place
	// in the graph.
	ID snapshot.OperatorID
}

// IsSource reports whether v is a source.
func (v *Vertex) IsSource() bool { return v.NewSource != nil }

// Graph is a whole job.
type Graph struct {
	Name     string
	Vertices []*Vertex
	final    bool
}

// New starts an empty job graph.
func New(name string) *Graph { return &Graph{Name: name} }

// Stream is the output of a vertex, to which further operators attach.
type Stream struct {
	g     *Graph
	v     *Vertex
	keyed bool
}

func (g *Graph) add(v *Vertex) *Vertex {
	v.Index = len(g.Vertices)
	g.Vertices = append(g.Vertices, v)
	g.final = false
	return v
}

// Source adds a source vertex.
func (g *Graph) Source(name string, f func() operator.Source) *Stream {
	v := g.add(&Vertex{Name: name, Kind: name, NewSource: f})
	return &Stream{g: g, v: v}
}

// Vertex is the vertex that produces s.
func (s *Stream) Vertex() *Vertex { return s.v }

// UID sets the vertex's uid (its operator ID becomes murmur3 of the uid, as
// in Flink, so state survives graph changes).
func (s *Stream) UID(uid string) *Stream { s.v.UID = uid; return s }

// Name sets the display name.
func (s *Stream) Name(name string) *Stream { s.v.Name = name; return s }

// Parallelism sets the vertex's parallelism.
func (s *Stream) Parallelism(p int) *Stream { s.v.Parallelism = p; return s }

// MaxParallelism sets the vertex's max parallelism (key groups).
func (s *Stream) MaxParallelism(p int) *Stream { s.v.MaxParallelism = p; return s }

// KeyBy hash-partitions the stream by record key; the next operator is keyed.
func (s *Stream) KeyBy() *Stream { return &Stream{g: s.g, v: s.v, keyed: true} }

// Process attaches an operator. After KeyBy it is keyed (hash edge, keyed
// state); otherwise the edge is forward at equal parallelism and rebalance
// otherwise, as in Flink.
func (s *Stream) Process(name string, f func() operator.Operator) *Stream {
	v := s.g.add(&Vertex{Name: name, Kind: name, NewOp: f, Keyed: s.keyed})
	p := Forward
	if s.keyed {
		p = Hash
	}
	v.Inputs = []Edge{{From: s.v.Index, Partitioning: p}}
	s.v.Outputs = append(s.v.Outputs, v.Index)
	return &Stream{g: s.g, v: v}
}

// Map attaches a stateless function.
func (s *Stream) Map(name string, fn func(operator.Record) operator.Record) *Stream {
	return s.Process(name, func() operator.Operator { return &operator.Map{Fn: fn} })
}

// Filter attaches a predicate.
func (s *Stream) Filter(name string, fn func(operator.Record) bool) *Stream {
	return s.Process(name, func() operator.Operator { return &operator.Filter{Fn: fn} })
}

// FlatMap attaches a one-to-many function.
func (s *Stream) FlatMap(name string, fn func(operator.Record, operator.Collector)) *Stream {
	return s.Process(name, func() operator.Operator { return &operator.FlatMap{Fn: fn} })
}

// Sink attaches a sink (an operator whose output goes nowhere).
func (s *Stream) Sink(name string, f func() operator.Operator) *Stream { return s.Process(name, f) }

// Limits of the embedded engine, which runs every subtask of a job on one
// machine: each subtask is a goroutine with its own input buffers, and each
// keyed one a Pebble instance with its memtables and caches (up to a few
// hundred MiB under load). A parallelism of 10,000 used to be accepted and
// took 13 GB before the first record. Flink's own bound on max parallelism
// (key groups) is keygroup.UpperBound, 32768.
const (
	// MaxOperatorParallelism bounds one operator's parallelism.
	MaxOperatorParallelism = 1024
	// MaxJobSubtasks bounds the sum of all operators' parallelism.
	MaxJobSubtasks = 4096
)

// VertexError is a validation error of one vertex, so callers that know
// where the vertex came from (a job spec's step) can say so.
type VertexError struct {
	Vertex *Vertex
	Err    error
}

func (e *VertexError) Error() string { return fmt.Sprintf("operator %s: %v", e.Vertex.Label(), e.Err) }
func (e *VertexError) Unwrap() error { return e.Err }

// Finalize fixes parallelism defaults, settles edge kinds, applies max
// parallelism per chain, validates the graph and assigns operator IDs. It
// is idempotent. Errors about one operator are *VertexError.
//
// Max parallelism is Flink's per job vertex: every operator of a chain
// gets the chain head's (its own, else the job's default, else derived
// from the parallelism), and a value set on an operator chained after the
// head is ignored — in the snapshots the job writes (every operator of a
// chain records the head's) and when it restores.
func (g *Graph) Finalize(defaultParallelism, defaultMaxParallelism int) error {
	if len(g.Vertices) == 0 {
		return fmt.Errorf("job %q has no operators", g.Name)
	}
	subtasks := 0
	for _, v := range g.Vertices {
		if v.Parallelism == 0 {
			v.Parallelism = defaultParallelism
		}
		if v.Parallelism > MaxOperatorParallelism {
			return &VertexError{Vertex: v, Err: fmt.Errorf("parallelism %d is above the embedded engine's limit of %d per operator", v.Parallelism, MaxOperatorParallelism)}
		}
		if subtasks += v.Parallelism; subtasks > MaxJobSubtasks {
			return &VertexError{Vertex: v, Err: fmt.Errorf("the job's operators would run more than %d subtasks together (the embedded engine's limit per job; each operator runs parallelism-many)", MaxJobSubtasks)}
		}
		if v.IsSource() && len(v.Inputs) > 0 || !v.IsSource() && len(v.Inputs) == 0 {
			return &VertexError{Vertex: v, Err: fmt.Errorf("a source has no inputs and every other operator has one")}
		}
		for i, e := range v.Inputs {
			up := g.Vertices[e.From]
			if e.Partitioning == Forward && up.Parallelism != v.Parallelism {
				v.Inputs[i].Partitioning = Rebalance
			}
		}
	}
	for _, ch := range g.Chains() {
		head := g.Vertices[ch[0]]
		if head.MaxParallelism == 0 {
			if defaultMaxParallelism > 0 {
				head.MaxParallelism = defaultMaxParallelism
			} else {
				head.MaxParallelism = keygroup.DefaultMaxParallelism(head.Parallelism)
				head.MaxParallelismDerived = true
			}
		}
		if err := keygroup.Check(head.Parallelism, head.MaxParallelism); err != nil {
			return &VertexError{Vertex: head, Err: err}
		}
		for _, i := range ch[1:] {
			v := g.Vertices[i]
			v.MaxParallelism, v.MaxParallelismDerived = head.MaxParallelism, head.MaxParallelismDerived
		}
	}
	if !g.final {
		if err := g.assignIDs(); err != nil {
			return err
		}
	}
	g.final = true
	return nil
}

// ChainHead is the first vertex of the chain (job vertex) v runs in.
func (g *Graph) ChainHead(v *Vertex) *Vertex {
	for len(v.Inputs) == 1 && g.Chainable(g.Vertices[v.Inputs[0].From], v) {
		v = g.Vertices[v.Inputs[0].From]
	}
	return v
}

// Label names a vertex for messages: its uid, else its name and index.
func (v *Vertex) Label() string {
	if v.UID != "" {
		return fmt.Sprintf("%q (uid %s)", v.Name, v.UID)
	}
	return fmt.Sprintf("%q (#%d)", v.Name, v.Index)
}

// Chainable reports whether the edge from up to down can run in one task:
// forward at equal parallelism, with down having that single input and up
// that single output (Flink's rule, minus slot sharing groups).
func (g *Graph) Chainable(up, down *Vertex) bool {
	if len(down.Inputs) != 1 || down.Inputs[0].From != up.Index || len(up.Outputs) != 1 {
		return false
	}
	return down.Inputs[0].Partitioning == Forward && up.Parallelism == down.Parallelism
}

// assignIDs gives each vertex its operator ID the way Flink's
// StreamGraphHasherV2 does: breadth-first from the sources (sorted by index);
// a vertex is hashed once all its inputs are; a uid hashes to
// murmur3(uid); otherwise the hash mixes the traversal position, the number
// of chainable outputs and the input IDs, so changing the graph changes the
// IDs of operators without uid.
func (g *Graph) assignIDs() error {
	done := make(map[int]bool, len(g.Vertices))
	byUID := map[snapshot.OperatorID]*Vertex{}
	var queue []int
	for _, v := range g.Vertices {
		if v.IsSource() {
			queue = append(queue, v.Index)
		}
	}
	sort.Ints(queue)
	visited := map[int]bool{}
	for _, q := range queue {
		visited[q] = true
	}
	for len(queue) > 0 {
		idx := queue[0]
		queue = queue[1:]
		v := g.Vertices[idx]
		ready := true
		for _, e := range v.Inputs {
			if !done[e.From] {
				ready = false
			}
		}
		if !ready {
			// Flink removes the node and waits until another input visits it.
			visited[idx] = false
			continue
		}
		if v.UID != "" {
			v.ID = snapshot.OperatorIDFromUID(v.UID)
			if other, ok := byUID[v.ID]; ok {
				return &VertexError{Vertex: v, Err: fmt.Errorf("uid %q used twice: operator %s has it too (hash collision on user-specified ID)", v.UID, other.Label())}
			}
			byUID[v.ID] = v
		} else {
			chainable := 0
			for _, o := range v.Outputs {
				if g.Chainable(v, g.Vertices[o]) {
					chainable++
				}
			}
			inputs := make([]snapshot.OperatorID, len(v.Inputs))
			for i, e := range v.Inputs {
				inputs[i] = g.Vertices[e.From].ID
			}
			v.ID = snapshot.GeneratedOperatorID(len(done), chainable, inputs...)
		}
		done[idx] = true
		for _, o := range v.Outputs {
			if !visited[o] {
				visited[o] = true
				queue = append(queue, o)
			}
		}
	}
	if len(done) != len(g.Vertices) {
		return fmt.Errorf("job %q: some operators are not reachable from a source", g.Name)
	}
	return nil
}

// ByID finds the vertex with operator ID id.
func (g *Graph) ByID(id snapshot.OperatorID) *Vertex {
	for _, v := range g.Vertices {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// Chains groups vertices into tasks: maximal runs of chainable vertices.
// Each chain lists vertex indices head first.
func (g *Graph) Chains() [][]int {
	var chains [][]int
	inChain := map[int]bool{}
	for _, v := range g.Vertices {
		if inChain[v.Index] {
			continue
		}
		if len(v.Inputs) == 1 && g.Chainable(g.Vertices[v.Inputs[0].From], v) {
			continue // not a head; reached from its head
		}
		chain := []int{v.Index}
		inChain[v.Index] = true
		cur := v
		for len(cur.Outputs) == 1 && g.Chainable(cur, g.Vertices[cur.Outputs[0]]) {
			cur = g.Vertices[cur.Outputs[0]]
			chain = append(chain, cur.Index)
			inChain[cur.Index] = true
		}
		chains = append(chains, chain)
	}
	return chains
}
