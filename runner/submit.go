package runner

import (
	"context"

	"github.com/ckpt-dev/ckpt/cluster"
)

// Cluster is a Flink target the runner jar goes to: it keeps uploaded jars
// and runs them (cluster/flinkrest's client).
type Cluster interface {
	UploadOnce(ctx context.Context, name string, data []byte) (a *cluster.Artifact, uploaded bool, err error)
	RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error)
}

// Run runs prog on c through the runner jar j: uploaded only when c does
// not have it yet (its name carries its checksum), then run with the
// program's arguments, parallelism (unless req sets one) and
// configuration. It is how `ckpt submit SPEC -m FLINK` and the TUI's
// launch on a Flink target run a spec. a is the jar on c; uploaded says
// whether this call sent it.
func Run(ctx context.Context, c Cluster, j *Jar, prog *Program, req cluster.RunRequest) (jobID string, a *cluster.Artifact, uploaded bool, err error) {
	a, uploaded, err = c.UploadOnce(ctx, j.UploadName, j.Data)
	if err != nil {
		return "", nil, false, err
	}
	req.EntryClass = EntryClass
	req.ProgramArgs = prog.Args
	if req.Parallelism == 0 {
		req.Parallelism = prog.Parallelism
	}
	if len(prog.Config) > 0 {
		req.Config = prog.Config
	}
	jobID, err = c.RunArtifact(ctx, a.ID, req)
	return jobID, a, uploaded, err
}
