package upgrade

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// JarPlanner is a cluster that can plan a jar program without running it:
// jar is a local file (uploaded for the plan and removed again) or a jar
// ID the cluster lists.
type JarPlanner interface {
	PlanJar(ctx context.Context, jar string, req cluster.RunRequest) (*inspector.JobPlan, error)
}

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
//
// A jar is planned by the cluster when it can (JarPlanner: Flink's
// /jars/:jarid/plan, nothing runs) and dry-run like a spec against that
// plan, whose unknowns (chained operators without uids, max parallelism)
// the plan reports as such; a cluster that cannot plan it gets
// JarDryRun's warning.
func DryRuns(c cluster.Cluster, fsys storage.FS, allowNonRestored bool, target TargetFunc, show func(*inspector.ResumePlan)) DryRunFunc {
	if target == nil {
		target = SpecTarget
	}
	return func(ctx context.Context, snap string, p *Program) DryRun {
		jp, planner := c.(JarPlanner)
		if p.Kind == JarProgram && !planner {
			return JarDryRun(ctx, snap, p)
		}
		// The snapshot first: a retained checkpoint may be subsumed and
		// deleted while the program is planned.
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		m, err := snapshot.Read(rctx, fsys, snap)
		cancel()
		if err != nil {
			return DryRun{Verdict: Warn, Unreadable: true, Summary: fmt.Sprintf("cannot read %s from here (%v): the cluster checks the restore itself", snap, err)}
		}
		var t inspector.Target
		if p.Kind == JarProgram {
			jar := p.JarID
			if jar == "" {
				jar = p.JarPath
			}
			pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			plan, err := jp.PlanJar(pctx, jar, cluster.RunRequest{EntryClass: p.EntryClass, ProgramArgs: p.Args, Parallelism: p.Parallelism})
			cancel()
			if err != nil {
				return DryRun{Verdict: Warn, Summary: fmt.Sprintf("the cluster could not plan %s (%v): it checks the restore itself", p, err)}
			}
			if t, err = inspector.TargetFromJobPlan("jar "+p.String(), plan); err != nil {
				return DryRun{Verdict: Warn, Summary: err.Error()}
			}
		} else if t, err = target(p); err != nil {
			return DryRun{Verdict: Refuse, Summary: fmt.Sprintf("the job spec %s does not build: %v", p.Name, err), ExitCode: inspector.ExitResumeFails}
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
		case len(plan.Unknown) > 0:
			return DryRun{Verdict: Warn, Summary: fmt.Sprintf("%d operator(s)' state cannot be placed from the plan (chained without a known uid): the cluster checks it; %d restored",
				len(plan.Unknown), len(plan.Restored))}
		case plan.MaxParallelismCheck == inspector.MaxParallelismNotChecked:
			return DryRun{Verdict: Warn, Summary: fmt.Sprintf("%d operator(s)' state restored, %d new operator(s) start empty; max parallelism not checked (the plan does not carry it)",
				len(plan.Restored), len(plan.New))}
		}
		return DryRun{Verdict: Pass, Summary: fmt.Sprintf("%d operator(s)' state restored, %d new operator(s) start empty",
			len(plan.Restored), len(plan.New))}
	}
}
