package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
)

// The commands that act on a running cluster (list, savepoint, cancel, stop,
// checkpoint, submit) all talk Flink's REST API to one target: a Flink
// JobManager or `ckpt serve`. As in Flink's CLI the target is -m/--jobmanager
// host:port; CKPT_JOBMANAGER sets a default; without either it is
// localhost:8081 (where `ckpt serve` and Flink listen by default).
//
// A `ckpt serve` that requires its token (beyond loopback, or with
// --require-token) gets it from the client (flinkrest.LookupToken) as
// "Authorization: Bearer": $CKPT_TOKEN, else the token file serve keeps —
// $CKPT_TOKEN_FILE, else $XDG_CONFIG_HOME/ckpt/serve-token
// (~/.config/ckpt/serve-token) — which is sent only to a target on this
// machine unless $CKPT_TOKEN_FILE names it. The TUI's -m does the same.

// DefaultJobManager is the REST target when neither -m nor CKPT_JOBMANAGER is set.
const DefaultJobManager = "localhost:8081"

// JobManagerEnv names the environment variable with the default target.
const JobManagerEnv = "CKPT_JOBMANAGER"

type targetFlags struct {
	cmd        *cobra.Command
	jobmanager string
	timeout    time.Duration
	rest       *restFlags

	// resolved memoizes resolve: a yarn: target costs ResourceManager calls.
	resolved *restTarget
}

// addTargetFlags adds -m/--jobmanager, --rest-timeout and the REST
// security flags (restflags.go) to cmd.
func addTargetFlags(cmd *cobra.Command) *targetFlags {
	f := &targetFlags{cmd: cmd}
	cmd.Flags().StringVarP(&f.jobmanager, "jobmanager", "m", "",
		"REST endpoint of the JobManager or ckpt serve: `host:port` or http(s)://host:port (default: --context, $"+ContextEnv+", $"+JobManagerEnv+", the current context, else "+DefaultJobManager+")")
	cmd.Flags().DurationVar(&f.timeout, "rest-timeout", flinkrest.DefaultTimeout, "bound on each REST call")
	f.rest = addRESTFlags(cmd)
	return f
}

// resolve is the REST endpoint the flags, the context and the
// environment name (restflags.go has the order).
func (f *targetFlags) resolve() (restTarget, error) {
	if f.resolved != nil {
		return *f.resolved, nil
	}
	t, err := resolveREST(f.cmd, f.jobmanager, f.rest, DefaultJobManager)
	if err == nil {
		f.resolved = &t
	}
	return t, err
}

// target names the endpoint for messages.
func (f *targetFlags) target() string {
	t, err := f.resolve()
	if err != nil {
		return f.jobmanager
	}
	return t.Name(t.URL)
}

// client connects to the target; a malformed target is a usage error.
func (f *targetFlags) client() (*flinkrest.Client, error) {
	t, err := f.resolve()
	if err != nil {
		return nil, err
	}
	opts := t.Options
	opts.Timeout = f.timeout
	c, err := flinkrest.New(t.URL, opts)
	if err != nil {
		return nil, usagef("-m/--jobmanager: %v", err)
	}
	return c, nil
}

// jobIDArg checks a JOBID argument as Flink's CLI does.
func jobIDArg(s string) (string, error) {
	if !cluster.IsJobID(s) {
		return "", usagef("job ID %q is not valid: a job ID is 32 hexadecimal digits (see `ckpt list`)", s)
	}
	return strings.ToLower(s), nil
}

// waitOp waits for an asynchronous operation up to d, saying so when it
// is still in progress.
func waitOp(ctx context.Context, c cluster.Cluster, t cluster.Trigger, d time.Duration) (*cluster.Operation, error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	op, err := cluster.Wait(wctx, c, t)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return op, fmt.Errorf("%s %s still in progress after %v (trigger id %s; raise --wait to wait longer)", t.Kind, opWhat(t), d, t.ID)
	}
	return op, err
}

func opWhat(t cluster.Trigger) string {
	if t.JobID != "" {
		return "of job " + t.JobID
	}
	return ""
}

// waitTerminal waits (up to d) until the job is in a terminal state and
// returns it.
func waitTerminal(ctx context.Context, c cluster.Cluster, jobID string, d time.Duration) (cluster.JobStatus, error) {
	deadline := time.Now().Add(d)
	delay := 50 * time.Millisecond
	for {
		j, err := c.Job(ctx, jobID)
		if err != nil {
			return "", err
		}
		if j.Status.Terminal() {
			return j.Status, nil
		}
		if time.Now().After(deadline) {
			return j.Status, fmt.Errorf("job %s is still %s after %v", jobID, j.Status, d)
		}
		select {
		case <-ctx.Done():
			return j.Status, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// flinkSingleDash are Flink's single-dash long options of the commands
// that mirror Flink's CLI, rewritten to their double-dash form.
var flinkSingleDash = map[string]map[string]string{
	"savepoint":  {"-type": "--type", "-dcp": "--detached"},
	"stop":       {"-type": "--type", "-drain": "--drain"},
	"checkpoint": {"-full": "--full", "-incremental": "--incremental"},
	"submit": {"-claimMode": "--claimMode", "-restoreMode": "--claimMode", "--restoreMode": "--claimMode", "-rm": "--claimMode",
		"-cm": "--claimMode", "-allowNonRestoredState": "--allowNonRestoredState", "-fromSavepoint": "--fromSavepoint"},
	"list": {"-running": "--running", "-scheduled": "--scheduled", "-all": "--all"},
}

func init() {
	argRewriters = append(argRewriters, func(args []string) []string {
		if len(args) == 0 {
			return args
		}
		m := flinkSingleDash[args[0]]
		if m == nil {
			return args
		}
		out := append([]string(nil), args...)
		for i, a := range out[1:] {
			if a == "--" {
				break
			}
			k, v, hasValue := strings.Cut(a, "=")
			if r, ok := m[k]; ok {
				if hasValue {
					r += "=" + v
				}
				out[i+1] = r
			}
		}
		return out
	})
}
