package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/cluster/history"
	"github.com/ckpt-dev/ckpt/cluster/upgrade"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
)

func init() { register(newUpgradeCmd) }

// Exit codes of `ckpt upgrade`: 0 upgraded; 1 failed (or stopped by an
// error: rerun to continue); 2 usage; 3 and 4 the dry run refused before
// anything was stopped (as ckpt submit's); 5 rolled back.
const ExitUpgradeRolledBack = 5

type upgradeOptions struct {
	parallel      int
	allowNR       bool
	entryClass    string
	checkpoints   int
	timeout       time.Duration
	dir, typ      string
	resume, json  bool
	journal       string
	rollbackJar   string
	rollbackClass string
	rollbackArgs  []string
	rollbackPar   int
}

func newUpgradeCmd() *cobra.Command {
	var o upgradeOptions
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "upgrade JOBID (SPEC | [-c CLASS] JAR [-- ARGS...]) [-p N] [-n] [--checkpoints N] [--timeout D] | upgrade --resume JOBID",
		Short: "Upgrade a running job to a new program from a savepoint, rolling back on failure",
		Long: `Upgrades a running job statefully, one step after the other, each printed:

  identify   the program the job runs now, to roll back to: for ckpt's engine
             the job spec it keeps; for Flink the jar a previous ckpt upgrade
             started, else --rollback-jar (Flink's REST API does not say which
             jar a job runs). Without one nothing is stopped.
  preflight  the resume dry run of ckpt submit -s: the new program against
             the job's latest completed checkpoint; a refusal stops here,
             before anything is stopped (exit 3 or 4).
  stop       stop with a savepoint (into --savepoint-dir or the cluster's).
  dry-run    the same dry run against that savepoint.
  submit     the new program, resuming from the savepoint (NO_CLAIM: the
             savepoint stays yours), with -n if given.
  watch      until --checkpoints N (default 2) checkpoints of the new job
             complete, at most --timeout.
  rollback   when the dry run refuses, the submission fails, the new job
             fails or restarts, or its checkpoints do not come in time: the
             new job is cancelled and the OLD program resubmitted from the
             same savepoint, then watched until it runs and checkpoints.

Flags may come anywhere; a jar's own arguments go after "--".

A jar gets no dry run yet: it is reported as a warning, and Flink checks the
restore itself (a refusal there is a failed submission: rolled back).

Every step is journaled in ckpt's state directory (upgrade/<target>/<job>.jsonl,
or --journal). If ckpt itself dies midway, run the same command again (or
ckpt upgrade --resume JOBID): it continues from the last completed step and
never takes a second savepoint or submits twice.

Exit codes: 0 upgraded; 1 failed, or interrupted (rerun to continue);
2 usage; 3 the preflight dry run found state that would be dropped (no -n);
4 it found the restore fails even with -n; 5 rolled back: the old program
runs again from the savepoint.`,
		Example: `  ckpt upgrade 3f2a1b0c orders-v2.yaml -m localhost:8081
  ckpt upgrade 3f2a1b0c -p 4 --checkpoints 3 --rollback-jar orders-1.4.jar \
      -c com.acme.Orders -m jobmanager:8081 orders-1.5.jar -- --env prod
  ckpt upgrade --resume 3f2a1b0c -m jobmanager:8081`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("missing JOBID")
			}
			if len(args) == 1 && !o.resume {
				return usagef("missing the new program: a job spec (YAML) or a jar (or --resume to finish an interrupted upgrade)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUpgrade(cmd, tf, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.parallel, "parallelism", "p", 0, "default parallelism of the new program")
	f.BoolVarP(&o.allowNR, "allowNonRestoredState", "n", false, "allow the new program to drop state that maps to no operator")
	f.StringVarP(&o.entryClass, "class", "c", "", "entry class of the new jar (default: its manifest's)")
	f.IntVar(&o.checkpoints, "checkpoints", upgrade.DefaultCheckpoints, "completed checkpoints of the new job that make the upgrade a success")
	f.DurationVar(&o.timeout, "timeout", upgrade.DefaultTimeout, "how long to wait for them before rolling back")
	f.StringVar(&o.dir, "savepoint-dir", "", "where the savepoint goes (default: the context's savepoints:, else the cluster's)")
	f.StringVar(&o.typ, "type", "canonical", "savepoint format: canonical or native")
	f.BoolVar(&o.resume, "resume", false, "finish the interrupted upgrade of JOBID from its journal")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.StringVar(&o.journal, "journal", "", "the upgrade's journal (default upgrade/<target>/<job>.jsonl in ckpt's state directory)")
	f.StringVar(&o.rollbackJar, "rollback-jar", "", "Flink: the jar the job runs now (a file, or an uploaded jar's id), to roll back to")
	f.StringVar(&o.rollbackClass, "rollback-class", "", "Flink: entry class of the rollback jar")
	f.StringArrayVar(&o.rollbackArgs, "rollback-arg", nil, "Flink: a program argument of the rollback jar (repeatable, in order)")
	f.IntVar(&o.rollbackPar, "rollback-parallelism", 0, "Flink: parallelism of the rollback (default: the running job's largest vertex parallelism)")
	tf = addTargetFlags(cmd)
	return cmd
}

func runUpgrade(cmd *cobra.Command, tf *targetFlags, o upgradeOptions, jobArg string, rest []string) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	if o.checkpoints < 1 {
		return usagef("--checkpoints %d: at least 1", o.checkpoints)
	}
	if o.parallel < 0 || o.rollbackPar < 0 {
		return usagef("parallelism must be positive")
	}
	format, err := formatFlag(o.typ)
	if err != nil {
		return err
	}
	var newProg *upgrade.Program
	if len(rest) > 0 {
		if newProg, err = upgrade.ReadProgramFile(rest[0]); err != nil {
			return err
		}
		newProg.Parallelism = o.parallel
		if newProg.Kind == upgrade.JarProgram {
			newProg.EntryClass, newProg.Args = o.entryClass, rest[1:]
		} else {
			if len(rest) > 1 {
				return usagef("a job spec takes no program arguments (got %q)", rest[1:])
			}
			if o.entryClass != "" {
				return usagef("-c/--class applies to jars, not job specs")
			}
			// A typo in the spec is reported with its line before anything is done.
			if _, err := spec.Parse(rest[0], []byte(newProg.Spec)); err != nil {
				return err
			}
		}
	}
	c, err := tf.client()
	if err != nil {
		return err
	}
	jobID, err := resolveJobArg(ctx, c, jobArg)
	if err != nil {
		return err
	}
	ov, err := c.Overview(ctx)
	if err != nil {
		return err
	}
	embeddedTarget := strings.HasPrefix(ov.Version, "ckpt")
	if newProg != nil {
		switch {
		case newProg.Kind == upgrade.JarProgram && embeddedTarget:
			return fmt.Errorf("%s runs ckpt's embedded engine (%s), which runs job specs (YAML), not jars", c.URL(), ov.Version)
		case newProg.Kind == upgrade.SpecProgram && !embeddedTarget:
			return fmt.Errorf("%s is Flink %s: it runs jars, not ckpt job specs", c.URL(), ov.Version)
		}
	}
	target := history.Target(c)
	journal := o.journal
	if journal == "" {
		if journal, err = upgrade.JournalPath(target, jobID); err != nil {
			return err
		}
	}
	dir := o.dir
	if dir == "" {
		if t, err := tf.resolve(); err == nil && t.Context != "" {
			if f, err := loadContexts(); err == nil {
				dir = f.Contexts[t.Context].Savepoints
			}
		}
	}
	old, err := rollbackProgram(cmd, c, jobID, o)
	if err != nil {
		return err
	}
	fsys := openStorage(cmd)
	defer fsys.Close()
	var show func(*inspector.ResumePlan)
	if !o.json {
		show = func(p *inspector.ResumePlan) { printPlan(out, p, inspectOptions{}) }
	}
	u := &upgrade.Upgrade{C: c, JobID: jobID, New: newProg, Old: old, Journal: journal, Target: target,
		Request: upgrade.Request{SavepointDir: dir, Format: string(format), AllowNonRestored: o.allowNR,
			Checkpoints: o.checkpoints, Timeout: o.timeout},
		DryRun: upgrade.DryRuns(c, fsys, o.allowNR, specProgramTarget, show),
		Known:  func(id string) *upgrade.Program { return upgrade.Known(filepath.Dir(journal), id) },
	}
	if !o.json {
		u.OnEvent = func(e upgrade.Event) { fmt.Fprintln(out, e) }
	}
	if o.resume && newProg == nil {
		if p, err := upgrade.Pending(journal); err != nil {
			return err
		} else if p == nil {
			return fmt.Errorf("no interrupted upgrade of job %s in %s", jobID, journal)
		}
	}
	rep, err := u.Run(ctx)
	if err != nil {
		if rep != nil && o.json {
			printUpgradeJSON(out, rep, err)
		}
		if errors.Is(err, upgrade.ErrPending) {
			return err
		}
		return fmt.Errorf("upgrade of job %s interrupted: %w (run the same command again to continue from the journal %s)", jobID, err, journal)
	}
	if o.json {
		printUpgradeJSON(out, rep, nil)
	} else {
		printUpgradeSummary(out, rep)
	}
	switch rep.Outcome {
	case upgrade.Upgraded:
		return nil
	case upgrade.RolledBack:
		return WithExitCode(ExitUpgradeRolledBack, fmt.Errorf("rolled back: %s", rep.Reason))
	case upgrade.Refused:
		if p := rep.Preflight; p != nil && p.Verdict == upgrade.Refuse && p.ExitCode != 0 {
			hint := ""
			if p.ExitCode == inspector.ExitResumeDropState && !o.allowNR {
				hint = " (pass -n/--allowNonRestoredState to drop it)"
			}
			return WithExitCode(p.ExitCode, fmt.Errorf("not upgraded, nothing stopped: %s%s", rep.Reason, hint))
		}
		return fmt.Errorf("not upgraded, nothing stopped: %s", rep.Reason)
	}
	return fmt.Errorf("upgrade failed: %s", rep.Reason)
}

// rollbackProgram is the --rollback-jar program, or nil to identify it.
func rollbackProgram(cmd *cobra.Command, c *flinkrest.Client, jobID string, o upgradeOptions) (*upgrade.Program, error) {
	if o.rollbackJar == "" {
		if o.rollbackClass != "" || len(o.rollbackArgs) > 0 || o.rollbackPar > 0 {
			return nil, usagef("--rollback-class, --rollback-arg and --rollback-parallelism go with --rollback-jar")
		}
		return nil, nil
	}
	var p *upgrade.Program
	if _, err := os.Stat(o.rollbackJar); err == nil {
		var err error
		if p, err = upgrade.ReadProgramFile(o.rollbackJar); err != nil {
			return nil, fmt.Errorf("--rollback-jar: %w", err)
		}
		if p.Kind != upgrade.JarProgram {
			return nil, usagef("--rollback-jar %s is not a jar", o.rollbackJar)
		}
	} else {
		// An uploaded jar's id, as GET /jars lists it.
		p = &upgrade.Program{Kind: upgrade.JarProgram, Name: o.rollbackJar, JarID: o.rollbackJar}
		arts, err := c.Artifacts(cmd.Context())
		if err != nil {
			return nil, err
		}
		found := false
		for _, a := range arts {
			found = found || a.ID == o.rollbackJar
		}
		if !found {
			return nil, fmt.Errorf("--rollback-jar %s: neither a jar file here nor a jar uploaded to %s", o.rollbackJar, c.URL())
		}
	}
	p.EntryClass, p.Args, p.Parallelism = o.rollbackClass, o.rollbackArgs, o.rollbackPar
	if p.Parallelism == 0 {
		if j, err := c.Job(cmd.Context(), jobID); err == nil {
			for _, v := range j.Vertices {
				p.Parallelism = max(p.Parallelism, v.Parallelism)
			}
		}
	}
	return p, nil
}

// specProgramTarget is a job spec program's resume target as ckpt submit
// -s builds it: the engine's graph (upgrade.SpecTarget), with the state
// its built-ins declare.
func specProgramTarget(p *upgrade.Program) (inspector.Target, error) {
	t, err := upgrade.SpecTarget(p)
	if err != nil {
		return t, err
	}
	if s, err := spec.Parse(p.Name, []byte(p.Spec)); err == nil {
		declareStates(s, &t)
	}
	return t, nil
}

func printUpgradeSummary(w io.Writer, r *upgrade.Report) {
	switch r.Outcome {
	case upgrade.Upgraded:
		fmt.Fprintf(w, "Upgraded: job %s runs %s from savepoint %s (job %s is FINISHED).\n", r.NewJobID, r.New, r.Savepoint, r.JobID)
	case upgrade.RolledBack:
		fmt.Fprintf(w, "ROLLED BACK: %s.\nJob %s runs the old program %s again from savepoint %s.\n", r.Reason, r.RollbackJobID, r.Old, r.Savepoint)
	case upgrade.Refused:
		fmt.Fprintf(w, "Not upgraded, nothing stopped (job %s runs on): %s\n", r.JobID, r.Reason)
	case upgrade.Failed:
		fmt.Fprintf(w, "FAILED: %s\n", r.Reason)
	}
}

type upgradeJSON struct {
	*upgrade.Report
	Error string `json:"error,omitempty"`
}

func printUpgradeJSON(w io.Writer, r *upgrade.Report, err error) {
	js := upgradeJSON{Report: r}
	if err != nil {
		js.Error = err.Error()
	}
	b, _ := json.MarshalIndent(js, "", "  ")
	fmt.Fprintln(w, string(b))
}
