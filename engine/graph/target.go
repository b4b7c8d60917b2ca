package graph

import "github.com/ckpt-dev/ckpt/inspector"

// ResumeTarget is the job as the inspector's restore rules see it: every
// operator with its ID, parallelism, its job vertex's max parallelism (the
// chain head's, set by Finalize) and whether it is keyed. g must be
// finalized. source names where the job came from ("job spec PATH").
func (g *Graph) ResumeTarget(source string) inspector.Target {
	t := inspector.Target{Source: source, Complete: true}
	for _, v := range g.Vertices {
		// A max parallelism set on the chain head, the spec or the
		// configuration is "configured" (not derived): Flink then refuses
		// to adopt a snapshot's different one.
		t.Operators = append(t.Operators, inspector.TargetOperator{
			UID: v.UID, Name: v.Name, ID: v.ID, Parallelism: v.Parallelism, MaxParallelism: v.MaxParallelism,
			MaxParallelismConfigured: !v.MaxParallelismDerived, NotKeyed: !v.Keyed,
		})
	}
	return t
}
