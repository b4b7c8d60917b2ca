package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
)

// The glue between job specs (owned by engine/spec) and the inspector,
// which must not import the engine: a spec becomes an inspector.Target by
// building its job graph, exactly as `ckpt run` would, so operator IDs —
// including generated ones of operators without uid — are the job's own.

// specTarget builds the resume target of a job spec file.
func specTarget(path string) (inspector.Target, error) { return specTargetWith(path, nil) }

// specTargetWith is specTarget with configuration layered over the spec's
// (a submission's -D and -p), which can change parallelism and max
// parallelism.
func specTargetWith(path string, over *config.Config) (inspector.Target, error) {
	s, err := spec.Load(path)
	if err != nil {
		return inspector.Target{}, err
	}
	cfg, err := s.Configure(over)
	if err != nil {
		return inspector.Target{}, err
	}
	o, err := cfg.Resolve()
	if err != nil {
		return inspector.Target{}, err
	}
	g, err := s.Graph()
	if err != nil {
		return inspector.Target{}, err
	}
	// A max parallelism set on the operator, the spec or the configuration
	// is "configured": Flink then refuses to adopt a snapshot's different one.
	configured := map[int]bool{}
	for _, v := range g.Vertices {
		configured[v.Index] = v.MaxParallelism != 0 || o.MaxParallelism > 0
	}
	if err := g.Finalize(o.Parallelism, o.MaxParallelism); err != nil {
		return inspector.Target{}, fmt.Errorf("%s: %w", path, err)
	}
	t := inspector.Target{Source: "job spec " + path, Complete: true}
	for _, v := range g.Vertices {
		t.Operators = append(t.Operators, inspector.TargetOperator{
			UID: v.UID, Name: v.Name, ID: v.ID, Parallelism: v.Parallelism, MaxParallelism: v.MaxParallelism,
			MaxParallelismConfigured: configured[v.Index],
		})
	}
	return t, nil
}

// looksLikeSpec tells a job spec (YAML with a pipeline) from a uids file.
func looksLikeSpec(path string) bool {
	if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
		return true
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte("pipeline:"))
}

// targetFrom turns an --against value into a target: a job spec file, a
// uids file (one per line), or a comma-separated uid list.
func targetFrom(against string) (inspector.Target, error) {
	if fi, err := os.Stat(against); err == nil && !fi.IsDir() {
		if looksLikeSpec(against) {
			return specTarget(against)
		}
		uids, err := inspector.ReadUIDsFile(against)
		if err != nil {
			return inspector.Target{}, err
		}
		return inspector.TargetFromUIDs("uids file "+against, uids)
	}
	uids := inspector.ParseUIDList(against)
	if len(uids) == 0 {
		return inspector.Target{}, usagef("--against %q: want a job spec, a uids file or a comma-separated uid list", against)
	}
	return inspector.TargetFromUIDs("uids "+strings.Join(uids, ","), uids)
}

// mappingEntries collects uids for naming operators from --uids,
// --uids-file and --job.
func mappingEntries(uids, uidsFile, job string) ([]string, error) {
	out := inspector.ParseUIDList(uids)
	if uidsFile != "" {
		more, err := inspector.ReadUIDsFile(uidsFile)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	if job != "" {
		t, err := specTarget(job)
		if err != nil {
			return nil, err
		}
		for _, o := range t.Operators {
			if o.UID != "" {
				out = append(out, o.UID)
			} else {
				out = append(out, fmt.Sprintf("%s=%s%s", labelOf(o), inspector.HashPrefix, o.ID))
			}
		}
	}
	return out, nil
}

func labelOf(o inspector.TargetOperator) string {
	if o.Name != "" {
		return "(" + o.Name + ")"
	}
	return "(no uid)"
}
