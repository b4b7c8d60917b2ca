package flinkrest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
)

// JarPlanDTO is the body of POST /jars/:jarid/plan (Flink 1.20 and 2.x
// alike; 1.20 also takes the deprecated programArgs string, never sent).
type JarPlanDTO struct {
	EntryClass         string            `json:"entryClass,omitempty"`
	ProgramArgsList    []string          `json:"programArgsList,omitempty"`
	Parallelism        *int              `json:"parallelism,omitempty"`
	JobID              string            `json:"jobId,omitempty"`
	FlinkConfiguration map[string]string `json:"flinkConfiguration,omitempty"`
}

// JobPlanDTO is the answer to /jars/:jarid/plan (and /jobs/:jobid/plan):
// {"plan": {jid, name, type, nodes}}. Flink 2.x builds it as a typed
// object, 1.20 as raw JSON from JsonPlanGenerator; the fields are the same.
type JobPlanDTO struct {
	Plan struct {
		JID   string           `json:"jid"`
		Name  string           `json:"name"`
		Type  string           `json:"type"`
		Nodes []JobPlanNodeDTO `json:"nodes"`
	} `json:"plan"`
}

// JobPlanNodeDTO is one job vertex of a plan. Neither 1.20 nor 2.3 sends
// a max parallelism or the IDs of the operators chained in the vertex;
// the description names them (HTML-escaped, "<br/>" between lines).
type JobPlanNodeDTO struct {
	ID               string                `json:"id"`
	Parallelism      int64                 `json:"parallelism"` // -1: the cluster's default
	Operator         string                `json:"operator"`
	OperatorStrategy string                `json:"operator_strategy"`
	Description      string                `json:"description"`
	Inputs           []JobPlanNodeInputDTO `json:"inputs"`
}

// JobPlanNodeInputDTO is one input edge of a plan node.
type JobPlanNodeInputDTO struct {
	Num          int    `json:"num"`
	ID           string `json:"id"`
	ShipStrategy string `json:"ship_strategy"`
	Exchange     string `json:"exchange"`
}

// ChainingKey is the configuration key that turns operator chaining off
// (Flink 1.x and 2.x): the plan is then asked for a second time with it,
// one vertex per operator.
const ChainingKey = "pipeline.operator-chaining.enabled"

// JarPlan asks Flink for the plan of an uploaded jar's program (POST
// /jars/:jarid/plan: Flink runs the jar's main() with the entry class,
// program arguments, parallelism and configuration of req, builds the job
// graph and answers with its vertices, without running anything), then for
// the plan of the same program with chaining disabled, whose vertices
// name the operators chained in the first (inspector.JobPlan.Unchained;
// left nil when that second plan fails: the dry run then says what it
// cannot know). req's savepoint settings are not sent.
func (c *Client) JarPlan(ctx context.Context, jarID string, req cluster.RunRequest) (*inspector.JobPlan, error) {
	plan, err := c.jarPlan(ctx, jarID, req, nil)
	if err != nil {
		return nil, err
	}
	chained := false
	for _, v := range plan.Vertices {
		chained = chained || v.Chained()
	}
	if !chained {
		return plan, nil
	}
	un, err := c.jarPlan(ctx, jarID, req, map[string]string{ChainingKey: "false"})
	if err == nil && len(un.Vertices) >= len(plan.Vertices) {
		plan.Unchained = un.Vertices
	}
	return plan, nil
}

func (c *Client) jarPlan(ctx context.Context, jarID string, req cluster.RunRequest, extra map[string]string) (*inspector.JobPlan, error) {
	body := JarPlanDTO{EntryClass: req.EntryClass, ProgramArgsList: req.ProgramArgs, JobID: req.JobID}
	if req.Parallelism > 0 {
		body.Parallelism = ptr(req.Parallelism)
	}
	if len(req.Config) > 0 || len(extra) > 0 {
		body.FlinkConfiguration = map[string]string{}
		for k, v := range req.Config {
			body.FlinkConfiguration[k] = v
		}
		for k, v := range extra {
			body.FlinkConfiguration[k] = v
		}
	}
	var d JobPlanDTO
	if err := c.do(ctx, http.MethodPost, "/jars/"+url.PathEscape(jarID)+"/plan", body, &d); err != nil {
		return nil, err
	}
	return DecodeJobPlan(&d)
}

// DecodeJobPlan turns Flink's plan into the inspector's.
func DecodeJobPlan(d *JobPlanDTO) (*inspector.JobPlan, error) {
	p := &inspector.JobPlan{JobName: d.Plan.Name}
	if len(d.Plan.Nodes) == 0 {
		return nil, errors.New("Flink's plan has no job vertices")
	}
	for _, n := range d.Plan.Nodes {
		id, err := snapshot.ParseOperatorID(n.ID)
		if err != nil {
			return nil, fmt.Errorf("Flink's plan: job vertex ID %q: %v", n.ID, err)
		}
		v := inspector.PlanVertex{ID: id, Description: n.Description,
			Operators: inspector.ChainedOperatorNames(n.Description)}
		if n.Parallelism > 0 {
			v.Parallelism = int(n.Parallelism)
		}
		for _, in := range n.Inputs {
			v.Inputs = append(v.Inputs, inspector.PlanInput{ID: in.ID, ShipStrategy: in.ShipStrategy})
		}
		p.Vertices = append(p.Vertices, v)
	}
	return p, nil
}

// PlanJar is the plan of a program given as jar: a local .jar file,
// uploaded for the plan and deleted from the cluster afterwards, or the ID
// of a jar already uploaded (as GET /jars lists it), used as it is.
func PlanJar(ctx context.Context, c *Client, jar string, req cluster.RunRequest) (*inspector.JobPlan, error) {
	if fi, err := os.Stat(jar); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", jar)
		}
		if fi.Size() > MaxJarBytes {
			return nil, fmt.Errorf("%s: %d bytes, more than Flink's default upload limit (rest.server.max-content-length, %d)", jar, fi.Size(), MaxJarBytes)
		}
		data, err := os.ReadFile(jar)
		if err != nil {
			return nil, err
		}
		a, err := c.UploadArtifact(ctx, filepath.Base(jar), bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		// The upload was only for the plan: remove it (a failure to is
		// harmless: an unused jar in the web upload directory).
		defer func() { _ = c.DeleteArtifact(context.WithoutCancel(ctx), a.ID) }()
		return c.JarPlan(ctx, a.ID, req)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if strings.ContainsAny(jar, "/\\") {
		return nil, fmt.Errorf("%s: no such jar file", jar)
	}
	p, err := c.JarPlan(ctx, jar, req)
	if errors.Is(err, cluster.ErrNotFound) {
		return nil, fmt.Errorf("%s: neither a local jar file nor a jar uploaded to %s (see GET /jars): %w", jar, c.URL(), err)
	}
	return p, err
}

// MaxJarBytes bounds a jar ckpt uploads: Flink's default
// rest.server.max-content-length.
const MaxJarBytes = 104857600

// PlanJar is PlanJar on this client: the plan of a local jar (uploaded,
// planned, removed) or of a jar ID the cluster lists.
func (c *Client) PlanJar(ctx context.Context, jar string, req cluster.RunRequest) (*inspector.JobPlan, error) {
	return PlanJar(ctx, c, jar, req)
}
