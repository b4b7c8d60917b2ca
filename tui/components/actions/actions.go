// Package actions are the changes to a target more than one screen makes:
// cancelling a job, submitting a job spec.
package actions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/bridge"
	jobspec "github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/runner"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// CancelJob cancels a job in a command (the confirmation came first).
func CancelJob(ctx *shell.Context, jobID string) tea.Cmd {
	if ctx.Readonly {
		return shell.Toast("read-only mode: cancel is disabled", true)
	}
	id, tctx := ctx.Tasks.Start("cancelling job "+format.ShortID(jobID), 0)
	c, timeout := ctx.Cluster, ctx.Timeout
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		err := c.Cancel(cctx, jobID)
		return shell.TaskDoneMsg{Task: id, Err: err, Toast: "cancelling job " + format.ShortID(jobID)}
	}
}

// LaunchSpec uploads a job spec to the target and runs it, as `ckpt
// submit` does, with the context's submit configuration.
func LaunchSpec(ctx context.Context, c *shell.Context, spec string) (string, error) {
	return SubmitSpec(ctx, c, spec, cluster.RunRequest{Config: c.SubmitConfig})
}

// SubmitSpec uploads a job spec and runs it with req: on ckpt's engine as
// it is, on a Flink target through ckpt's runner jar.
func SubmitSpec(ctx context.Context, c *shell.Context, spec string, req cluster.RunRequest) (string, error) {
	if c.Cluster == nil {
		return "", fmt.Errorf("no target")
	}
	data, err := storage.ReadRegular(spec, jobspec.MaxFileBytes)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	o, err := c.Cluster.Overview(cctx)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(o.Version, "ckpt") {
		// An upload and a first run on a busy cluster take longer than
		// one REST call.
		rctx, cancel := context.WithTimeout(ctx, max(c.Timeout, 2*time.Minute))
		defer cancel()
		return runOnFlink(rctx, c, spec, data, o.Version, req)
	}
	return cluster.Submit(cctx, c.Cluster, filepath.Base(spec), data, req)
}

// runOnFlink runs a job spec on a Flink target through ckpt's runner jar,
// as `ckpt submit SPEC -m FLINK` does: a spec using what the runner
// cannot run is refused before anything is uploaded.
func runOnFlink(ctx context.Context, c *shell.Context, spec string, data []byte, version string, req cluster.RunRequest) (string, error) {
	rc, ok := c.Cluster.(runner.Cluster)
	if !ok {
		return "", fmt.Errorf("%s runs Flink %s but takes no jars here: job specs run on ckpt's embedded engine or `ckpt serve`", c.TargetName, version)
	}
	parsed, err := jobspec.Parse(spec, data)
	if err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	prog, err := runner.ProgramFor(parsed, nil, req.Config, wd)
	if err != nil {
		return "", err
	}
	if req.SavepointPath != "" && c.FS != nil {
		// A savepoint of ckpt's engine resumes on Flink converted, beside
		// it, as ckpt submit -s does.
		res, err := bridge.ForFlink(ctx, c.FS, req.SavepointPath, version, bridge.ToFlinkOptions{Spec: parsed, AllowNonRestored: req.AllowNonRestoredState})
		if err != nil {
			return "", err
		}
		if res != nil {
			req.SavepointPath = res.Dir
		}
	}
	jar, err := runner.LoadJar()
	if err != nil {
		return "", err
	}
	id, _, _, err := runner.Run(ctx, rc, jar, prog, req)
	return id, err
}

// SavepointDirKeys name the cluster's default savepoint directory: Flink
// 1.20/2.x, and the older name 1.x clusters still set.
var SavepointDirKeys = []string{"execution.checkpointing.savepoint-dir", "state.savepoints.dir"}

// Launched reports a job spec submitted for screen Sid (the launcher,
// resume): the new job's ID, or why not.
type Launched struct {
	Sid   int
	Task  shell.TaskID
	Spec  string
	JobID string
	Err   error
}
