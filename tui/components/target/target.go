// Package target is the new job a snapshot is checked against (the resume
// dry run, the inspector's uid mapping, diff): given as uids, a uids file
// or a job spec, and what the dry run says of each operator.
package target

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// Load resolves a new job given as "a,b,c" (uids), "@file" with one
// uid a line (# comments, on local disk or HDFS) or "@spec.yaml", a job
// spec whose job graph gives every operator's ID. It may read files: call
// it from a command.
func Load(ctx context.Context, fsys storage.FS, specTarget func(string) (inspector.Target, error), v string) (inspector.Target, error) {
	path, isFile := strings.CutPrefix(strings.TrimSpace(v), "@")
	if !isFile {
		uids := inspector.ParseUIDList(v)
		return inspector.TargetFromUIDs("uids "+strings.Join(uids, ","), uids)
	}
	path = strings.TrimSpace(path)
	// A .yaml name is a spec without reading it (the spec loader reads
	// local files); otherwise the content decides, as for ckpt inspect.
	var b []byte
	isSpec := spec.LooksLikeSpec(path, nil)
	if !isSpec {
		var err error
		if b, err = readTargetFile(ctx, fsys, path); err != nil {
			return inspector.Target{}, err
		}
		isSpec = spec.LooksLikeSpec(path, b)
	}
	if isSpec {
		if specTarget == nil {
			return inspector.Target{}, fmt.Errorf("%s: job specs are not available as dry-run targets here", path)
		}
		return specTarget(path)
	}
	uids, err := inspector.ReadUIDs(bytes.NewReader(b), path)
	if err == nil && len(uids) == 0 {
		err = fmt.Errorf("%s: no uids (one a line, # comments)", path)
	}
	if err != nil {
		return inspector.Target{}, err
	}
	return inspector.TargetFromUIDs("uids file "+path, uids)
}

// readTargetFile reads an "@file" target (a uids file or a job spec) from
// storage, bounded.
func readTargetFile(ctx context.Context, fsys storage.FS, path string) ([]byte, error) {
	f, err := fsys.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 16<<20))
}

// Verdict is what the dry run says of one operator.
type Verdict int

const (
	None     Verdict = iota
	Restored         // maps to an operator of the job
	Dropped          // has state, no operator claims it: needs allow-non-restored-state
	Skipped          // no operator claims it, but it holds no state: Flink skips it silently
	New              // an operator of the job with no state in the snapshot: starts empty
	Fails            // restoring it fails even with -n (max parallelism)
)

// SpecWithParallelism is a job spec's target built with the default
// parallelism set to p, as `ckpt run -s -p N` builds it (p > 0): the
// graph a rescaled resume would run, whose operators the dry run checks
// against the snapshot's max parallelism. It reads the spec: call it from
// a command.
func SpecWithParallelism(path string, p int) (inspector.Target, error) {
	s, err := spec.Load(path)
	if err != nil {
		return inspector.Target{}, err
	}
	over := config.New()
	if err := over.Set(config.Parallelism, strconv.Itoa(p), "-p"); err != nil {
		return inspector.Target{}, err
	}
	// The checkpoint directory may come from the cluster; the job graph
	// does not depend on it (as the CLI's dry run does).
	if err := over.Set(config.CheckpointDir, "file:///ckpt-dry-run", "dry run"); err != nil {
		return inspector.Target{}, err
	}
	_, g, err := s.Prepare(nil, over)
	if err != nil {
		return inspector.Target{}, err
	}
	return g.ResumeTarget(fmt.Sprintf("job spec %s at parallelism %d", path, p)), nil
}

// PlanNotes are the plan's warnings beyond its counts, as the resume and
// inspect screens show them.
func PlanNotes(p *inspector.ResumePlan) []string {
	if p == nil {
		return nil
	}
	var out []string
	if n := len(p.KeyedStateIgnored); n > 0 {
		out = append(out, fmt.Sprintf("KEYED STATE IGNORED: %s (%s) no longer keyed: lost on resume",
			text.Plural(n, "operator"), text.Bytes(p.IgnoredBytes)))
	}
	if p.MaxParallelismCheck == inspector.MaxParallelismNotChecked {
		out = append(out, "max parallelism NOT CHECKED: uids carry none (a job spec does)")
	}
	return out
}
