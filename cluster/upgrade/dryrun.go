package upgrade

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// TargetFunc builds the resume target (the job graph as the restore rules
// see it) of a job spec program.
type TargetFunc func(p *Program) (inspector.Target, error)

// SpecTarget builds a job spec's target as the engine would run it, at
// the program's parallelism (the graph, not where it checkpoints: a
// placeholder checkpoint directory lets the spec's settings resolve).
func SpecTarget(p *Program) (inspector.Target, error) {
	s, err := spec.Parse(p.Name, []byte(p.Spec))
	if err != nil {
		return inspector.Target{}, err
	}
	over := config.New()
	if p.Parallelism > 0 {
		if err := over.Set(config.Parallelism, strconv.Itoa(p.Parallelism), "-p"); err != nil {
			return inspector.Target{}, err
		}
	}
	if err := over.Set(config.CheckpointDir, "file:///ckpt-dry-run", "dry run"); err != nil {
		return inspector.Target{}, err
	}
	_, g, err := s.Prepare(nil, over)
	if err != nil {
		return inspector.Target{}, err
	}
	return g.ResumeTarget("job spec " + p.Name), nil
}

// Dry runs: the one of `ckpt submit -s` for job specs (inspector's restore
// rules and upgrade risks, refused by ResumePlan.Refuse), JarDryRun for
// jars. target builds a spec's graph (nil = SpecTarget); show, if not nil,
// receives each plan (to print it).
func DryRuns(fsys storage.FS, allowNonRestored bool, target TargetFunc, show func(*inspector.ResumePlan)) DryRunFunc {
	if target == nil {
		target = SpecTarget
	}
	return func(ctx context.Context, snap string, p *Program) DryRun {
		if p.Kind == JarProgram {
			return JarDryRun(ctx, snap, p)
		}
		t, err := target(p)
		if err != nil {
			return DryRun{Verdict: Refuse, Summary: fmt.Sprintf("the job spec %s does not build: %v", p.Name, err), ExitCode: inspector.ExitResumeFails}
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		m, err := snapshot.Read(rctx, fsys, snap)
		cancel()
		if err != nil {
			return DryRun{Verdict: Warn, Summary: fmt.Sprintf("cannot read %s from here (%v): the cluster checks the restore itself", snap, err)}
		}
		plan := inspector.PlanResume(m, t, nil)
		rctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
		inspector.AssessUpgrade(rctx, fsys, m, plan, t)
		cancel()
		if show != nil {
			show(plan)
		}
		if r := plan.Refuse(allowNonRestored); r != nil {
			return DryRun{Verdict: Refuse, Summary: r.Reason, ExitCode: r.ExitCode}
		}
		switch {
		case len(plan.Dropped) > 0:
			return DryRun{Verdict: Warn, Summary: fmt.Sprintf("%d operator(s)' state dropped, as -n allows; %d restored",
				len(plan.Dropped), len(plan.Restored))}
		case len(plan.KeyedStateIgnored) > 0:
			return DryRun{Verdict: Warn, Summary: fmt.Sprintf("%d operator(s) no longer keyed: their keyed state is ignored", len(plan.KeyedStateIgnored))}
		}
		return DryRun{Verdict: Pass, Summary: fmt.Sprintf("%d operator(s)' state restored, %d new operator(s) start empty",
			len(plan.Restored), len(plan.New))}
	}
}
