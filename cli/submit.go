package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/runner"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newSubmitCmd) }

// Exit codes of `ckpt submit` when its resume dry run refuses (the same
// as `ckpt inspect --against`).
const (
	ExitSubmitDropsState   = inspector.ExitResumeDropState // state would be dropped and -n is not given
	ExitSubmitRestoreFails = inspector.ExitResumeFails     // the restore fails even with -n
)

type submitOptions struct {
	fromPath   string
	allowNR    bool
	parallel   int
	claimMode  string
	dyn        []string
	jobID      string
	entryClass string
	noDryRun   bool
	dryRunOnly bool
	wait       time.Duration
}

func newSubmitCmd() *cobra.Command {
	var o submitOptions
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "submit [-s PATH [-n] [--claimMode M]] [-p N] [-D key=value]... SPEC | [-c CLASS] JAR [ARGS...]",
		Short: "Submit a job to a running engine or Flink cluster",
		Long: `Submits a job to the REST target the way Flink's web submission does (POST
/jars/upload, then POST /jars/:jarid/run) and prints its job ID. The program
is a job spec (YAML) or a jar, with -c for its entry class and program
arguments after it. ckpt serve runs a spec itself; a Flink cluster runs it on
ckpt's runner for Flink (runner/target/ckpt-flink-runner.jar, built by
make runner, or $CKPT_FLINK_RUNNER_JAR), uploaded once: its name carries its
checksum, so a cluster that has it already is not sent it again. The job gets
the spec's operators, uids (so operator IDs), parallelism and configuration
(-D wins); relative paths in the spec resolve against the current directory.
A spec using an operator the runner has no counterpart for is refused before
anything is uploaded.

-s PATH resumes from a savepoint, a retained chk-N directory or a _metadata
file (--fromSavepoint); -n (--allowNonRestoredState) lets state that maps to
no operator be dropped; --claimMode CLAIM|NO_CLAIM|LEGACY says who owns the
snapshot afterwards (sent as claimMode to Flink 2.x, restoreMode to 1.x).

Before resuming a job spec ckpt runs the resume dry run of
ckpt inspect --against on the snapshot (read from here, local or HDFS) and
refuses — listing every operator whose state would be lost and how much —
unless -n is given; it also refuses a resume that would fail whatever the
flags, a state serializer Flink would refuse included. It lists the
restored state's upgrade risks (Kryo, Java serialization, TTL) as inspect
--against does. For a jar it runs the same dry run on the job graph Flink
builds from the jar (POST /jars/:jarid/plan, as ckpt inspect --against JAR):
what that plan cannot tell — state of operators chained inside a job vertex
without a known uid, max parallelism — is printed as UNKNOWN or NOT CHECKED
and left to Flink, never refused. --dry-run stops after the dry run: nothing
is submitted (a jar uploaded for it is removed).

After submission ckpt waits (--wait) for the job to run and reports a job
that fails at start with its exception.

Exit codes: 0 submitted (with --dry-run: the dry run found nothing to
refuse); 1 rejected, unreachable or failed at start; 2 usage; 3 the dry run
found state that would be dropped (no -n); 4 the dry run found the restore
fails even with -n; 6 (--dry-run only) the dry run cannot tell whether some
state finds its operator.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("missing the program: a job spec (YAML) or a jar")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return submit(cmd, tf, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	// Everything after the program is the program's own arguments, as in
	// flink run.
	f.SetInterspersed(false)
	f.StringVarP(&o.fromPath, "fromSavepoint", "s", "", "resume from a savepoint, retained chk-N dir or _metadata file")
	f.BoolVarP(&o.allowNR, "allowNonRestoredState", "n", false, "allow dropping snapshot state that maps to no operator")
	f.IntVarP(&o.parallel, "parallelism", "p", 0, "default parallelism of the job")
	f.StringVar(&o.claimMode, "claimMode", "", "who owns the restored snapshot: CLAIM, NO_CLAIM (default) or LEGACY (alias --restoreMode)")
	f.StringArrayVarP(&o.dyn, "define", "D", nil, "job configuration key=value (Flink key names, repeatable)")
	f.StringVar(&o.jobID, "jobid", "", "pin the new job's ID (32 hex digits)")
	f.StringVarP(&o.entryClass, "class", "c", "", "entry class of a jar (default: the jar's manifest)")
	f.BoolVar(&o.noDryRun, "no-dry-run", false, "skip the resume dry run")
	f.BoolVar(&o.dryRunOnly, "dry-run", false, "run the resume dry run only: submit nothing")
	f.DurationVar(&o.wait, "wait", 30*time.Second, "how long to watch the new job start (0 = do not watch)")
	tf = addTargetFlags(cmd)
	return cmd
}

// maxProgramBytes bounds the program ckpt submit reads and uploads: Flink's
// rest.server.max-content-length default (a job spec is further bounded
// by spec.MaxFileBytes).
const maxProgramBytes = 104857600

func isJar(path string, data []byte) bool {
	return strings.HasSuffix(strings.ToLower(path), ".jar") || bytes.HasPrefix(data, []byte("PK\x03\x04"))
}

func submit(cmd *cobra.Command, tf *targetFlags, o submitOptions, program string, progArgs []string) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	// A regular file only, bounded like Flink's upload limit: a FIFO or
	// /dev/zero given as the program is refused at once.
	data, err := storage.ReadRegular(program, maxProgramBytes)
	if err != nil {
		return fmt.Errorf("program: %w", err)
	}
	jar := isJar(program, data)
	var parsed *spec.Spec
	conf := map[string]string{}
	over := config.New()
	for _, d := range o.dyn {
		k, v, ok := strings.Cut(d, "=")
		if !ok {
			return usagef("-D %s: expected key=value", d)
		}
		if !jar {
			// Known keys are checked here, before anything is sent.
			if err := over.SetDynamic(d); err != nil {
				return usagef("%v", err)
			}
		}
		conf[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if o.claimMode != "" {
		o.claimMode = strings.ToUpper(o.claimMode)
		switch o.claimMode {
		case cluster.Claim, cluster.NoClaim, cluster.Legacy:
		default:
			return usagef("--claimMode %q: want CLAIM, NO_CLAIM or LEGACY", o.claimMode)
		}
		if o.fromPath == "" {
			return usagef("--claimMode applies to a resume: give -s PATH")
		}
	}
	if o.allowNR && o.fromPath == "" {
		return usagef("-n/--allowNonRestoredState applies to a resume: give -s PATH")
	}
	if o.dryRunOnly && (o.fromPath == "" || o.noDryRun) {
		return usagef("--dry-run runs the resume dry run: give -s PATH (and not --no-dry-run)")
	}
	if o.parallel < 0 {
		return usagef("-p %d: parallelism must be positive", o.parallel)
	}
	if o.jobID != "" {
		if o.jobID, err = jobIDArg(o.jobID); err != nil {
			return err
		}
	}
	if !jar {
		if len(progArgs) > 0 {
			return usagef("a job spec takes no program arguments (got %q); use -D key=value", progArgs)
		}
		if o.entryClass != "" {
			return usagef("-c/--class applies to jars, not job specs")
		}
		// A typo in the spec is reported with its line before anything is sent.
		if parsed, err = spec.Parse(program, data); err != nil {
			return err
		}
		if o.parallel > 0 {
			if err := over.Set(config.Parallelism, strconv.Itoa(o.parallel), "-p"); err != nil {
				return usagef("%v", err)
			}
		}
	}
	c, err := tf.client()
	if err != nil {
		return err
	}
	ov, err := c.Overview(ctx)
	if err != nil {
		return err
	}
	embeddedTarget := strings.HasPrefix(ov.Version, "ckpt")
	switch {
	case jar && embeddedTarget:
		return fmt.Errorf("%s runs ckpt's embedded engine (%s), which runs job specs (YAML), not jars", c.URL(), ov.Version)
	}
	// A spec sent to Flink runs on ckpt's runner for Flink (runner/): a
	// spec using something the runner cannot run is refused here, before
	// anything is uploaded.
	var prog *runner.Program
	var runnerJar *runner.Jar
	if !jar && !embeddedTarget {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if prog, err = runner.ProgramFor(parsed, over, conf, wd); err != nil {
			return err
		}
		if runnerJar, err = runner.LoadJar(); err != nil {
			return err
		}
	}
	// A savepoint of ckpt's engine resumed on Flink: converted first into
	// a Flink canonical savepoint beside it (the source is only read).
	if prog != nil && o.fromPath != "" {
		if o.fromPath, err = convertEngineSavepoint(cmd, out, o.fromPath, parsed, ov.Version, o.allowNR); err != nil {
			return err
		}
	}
	req := cluster.RunRequest{EntryClass: o.entryClass, ProgramArgs: progArgs, Parallelism: o.parallel, JobID: o.jobID,
		SavepointPath: o.fromPath, AllowNonRestoredState: o.allowNR, ClaimMode: o.claimMode}
	if len(conf) > 0 {
		req.Config = conf
	}
	artifact, ran := "", false
	if o.fromPath != "" && !o.noDryRun {
		var target func() (inspector.Target, error)
		if jar {
			// Uploaded once: planned, then run by the same jar ID.
			a, err := c.UploadArtifact(ctx, filepath.Base(program), bytes.NewReader(data))
			if err != nil {
				return err
			}
			artifact = a.ID
			// Uploaded for the dry run: removed again unless it is run
			// (refused, or --dry-run).
			defer func() {
				if !ran {
					_ = c.DeleteArtifact(context.WithoutCancel(ctx), a.ID)
				}
			}()
			target = func() (inspector.Target, error) {
				plan, err := c.JarPlan(ctx, a.ID, req)
				if err != nil && !o.dryRunOnly {
					fmt.Fprintf(out, "Resume dry run skipped: Flink could not build the plan of %s (%v); Flink checks the restore itself.\n", program, err)
					return inspector.Target{}, errDryRunSkipped
				}
				if err != nil {
					return inspector.Target{}, fmt.Errorf("the plan of %s on %s: %w", program, c.URL(), err)
				}
				return inspector.TargetFromJobPlan(fmt.Sprintf("jar %s on Flink %s", filepath.Base(program), ov.Version), plan)
			}
		} else {
			target = func() (inspector.Target, error) { return specDryRunTarget(program, over) }
		}
		if err := dryRun(ctx, cmd, out, program, o, target); err != nil {
			return err
		}
		if o.dryRunOnly {
			return nil
		}
	}
	var id string
	if prog != nil {
		id, err = runOnRunner(ctx, c, out, runnerJar, prog, req, ov.Version)
	} else if artifact != "" {
		ran = true
		id, err = c.RunArtifact(ctx, artifact, req)
	} else {
		id, err = cluster.Submit(ctx, c, filepath.Base(program), data, req)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Job has been submitted with JobID %s\n", id)
	if o.wait <= 0 {
		return nil
	}
	return watchStart(ctx, c, id, o.wait, out)
}

// runOnRunner runs a job spec on Flink through ckpt's runner jar,
// uploading the jar only when the cluster does not have it yet (its name
// carries its checksum).
func runOnRunner(ctx context.Context, c *flinkrest.Client, out io.Writer, j *runner.Jar, prog *runner.Program, req cluster.RunRequest, version string) (string, error) {
	id, a, uploaded, err := runner.Run(ctx, c, j, prog, req)
	if a != nil {
		verb := "reusing"
		if uploaded {
			verb = "uploaded"
		}
		fmt.Fprintf(out, "Runner for Flink %s: %s %s (jar %s)\n", version, verb, j.UploadName, a.ID)
	}
	return id, err
}

// errDryRunSkipped: the dry run's target could not be built and the
// submission goes on without it (said where it happened).
var errDryRunSkipped = errors.New("dry run skipped")

// specDryRunTarget is the resume target of a job spec submitted with the
// submission's configuration.
func specDryRunTarget(program string, over *config.Config) (inspector.Target, error) {
	// The checkpoint directory often comes from the cluster's configuration,
	// which is not known here; the job graph (all the dry run needs) does
	// not depend on it, so a placeholder lets the spec's settings resolve.
	over = over.Clone()
	if !over.IsSet(config.CheckpointDir) {
		over.Set(config.CheckpointDir, "file:///ckpt-dry-run", "dry run")
	}
	return specTargetWith(program, over)
}

// dryRun runs the resume dry run of the program (a job spec, or a jar's
// plan: targetOf builds it) against the snapshot and refuses what Flink
// would refuse (or what would silently lose state). With --dry-run it
// also reports, by its exit code, what it cannot tell.
func dryRun(ctx context.Context, cmd *cobra.Command, out io.Writer, program string, o submitOptions, targetOf func() (inspector.Target, error)) error {
	target, err := targetOf()
	if errors.Is(err, errDryRunSkipped) {
		return nil
	}
	if err != nil {
		return err
	}
	fs := openStorage(cmd)
	defer fs.Close()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	m, err := snapshot.Read(rctx, fs, o.fromPath)
	cancel()
	if err != nil {
		if o.dryRunOnly {
			return fmt.Errorf("resume dry run: cannot read %s from here: %w", o.fromPath, err)
		}
		fmt.Fprintf(out, "Resume dry run skipped: cannot read %s from here (%v); the cluster checks the restore itself.\n", o.fromPath, err)
		return nil
	}
	plan := inspector.PlanResume(m, target, nil)
	// The upgrade risks of inspect --against: the restored state's schema
	// (stream heads only); a serializer Flink would refuse fails the plan.
	rctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	inspector.AssessUpgrade(rctx, fs, m, plan, target)
	cancel()
	printPlan(out, plan, inspectOptions{})
	if r := plan.Refuse(o.allowNR); r != nil {
		hint := "pass -n/--allowNonRestoredState to drop it"
		if r.ExitCode == ExitSubmitRestoreFails {
			hint = "see the dry run above; --no-dry-run submits anyway"
		}
		return WithExitCode(r.ExitCode, fmt.Errorf("not submitted: resuming %s into %s: %s; %s", o.fromPath, program, r.Reason, hint))
	}
	if len(plan.Dropped) > 0 {
		fmt.Fprintf(out, "Dropping the state of %d operator(s) (%s), as -n allows.\n", len(plan.Dropped), sizeIEC(plan.DroppedBytes, false))
	}
	if len(plan.Unknown) > 0 {
		if o.allowNR {
			fmt.Fprintf(out, "The state of %d operator(s) (%s) is UNKNOWN to the dry run: with -n, Flink drops whatever of it finds no operator.\n", len(plan.Unknown), sizeIEC(plan.UnknownBytes, false))
		} else {
			fmt.Fprintf(out, "The state of %d operator(s) (%s) is UNKNOWN to the dry run: Flink itself refuses the resume if any of it finds no operator.\n", len(plan.Unknown), sizeIEC(plan.UnknownBytes, false))
			if o.dryRunOnly {
				return WithExitCode(inspector.ExitResumeUnknown, nil)
			}
		}
	}
	if o.dryRunOnly {
		fmt.Fprintln(out, "Dry run only: nothing submitted.")
	}
	return nil
}

// watchStart waits until the new job runs every task, ends, or d passes;
// a job that fails is an error carrying its exception.
func watchStart(ctx context.Context, c cluster.Cluster, id string, d time.Duration, out io.Writer) error {
	deadline := time.Now().Add(d)
	for {
		j, err := c.Job(ctx, id)
		if err != nil && !errors.Is(err, cluster.ErrNotFound) {
			return err
		}
		if err == nil {
			switch {
			case j.Status == cluster.JobFailed:
				msg := "no exception recorded"
				if x, err := c.Exceptions(ctx, id); err == nil && len(x.Entries) > 0 {
					msg = x.Entries[0].Message()
				}
				return fmt.Errorf("job %s FAILED at start: %s", id, msg)
			case j.Status.Terminal():
				fmt.Fprintf(out, "Job %s is %s.\n", id, j.Status)
				return nil
			case j.Status == cluster.JobRunning && allRunning(j):
				fmt.Fprintf(out, "Job %s is RUNNING.\n", id)
				return nil
			}
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(out, "Job %s is not running yet after %v; follow it with ckpt list.\n", id, d)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func allRunning(j *cluster.Job) bool {
	running := 0
	for _, v := range j.Vertices {
		// A task that already finished (a source subtask without a split,
		// e.g. after a scale-out) started and ran: waiting for it to run
		// would wait out --wait.
		if v.Tasks[cluster.TaskRunning]+v.Tasks[cluster.TaskFinished] != v.Parallelism {
			return false
		}
		running += v.Tasks[cluster.TaskRunning]
	}
	return running > 0
}
