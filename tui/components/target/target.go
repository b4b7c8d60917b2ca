// Package target is the new job a snapshot is checked against (the resume
// dry run, the inspector's uid mapping, diff): given as uids, a uids file
// or a job spec, and what the dry run says of each operator.
package target

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
)

// Verdict is what the dry run says of one operator.
type Verdict int

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
	if LooksLikeSpec(path) {
		if specTarget == nil {
			return inspector.Target{}, fmt.Errorf("%s: job specs are not available as dry-run targets here", path)
		}
		return specTarget(path)
	}
	uids, err := readUIDFile(ctx, fsys, path)
	if err != nil {
		return inspector.Target{}, err
	}
	return inspector.TargetFromUIDs("uids file "+path, uids)
}

// Mapping names operator IDs after a target's operators: uids, and
// for operators without uid whose ID a job graph computed, their name.
func Mapping(t inspector.Target) (*inspector.UIDMapping, error) {
	var entries []string
	for _, o := range t.Operators {
		switch {
		case o.UID != "":
			entries = append(entries, o.UID)
		case !o.ID.IsZero():
			label := "(no uid)"
			if o.Name != "" {
				label = "(" + o.Name + ")"
			}
			entries = append(entries, label+"="+inspector.HashPrefix+o.ID.String())
		}
	}
	m, err := inspector.NewUIDMapping(entries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Source, err)
	}
	return m, nil
}

// LooksLikeSpec tells a job spec (YAML) from a uids file by its name, so
// a uids file on HDFS is never handed to the local spec loader.
func LooksLikeSpec(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

// readUIDFile reads a uids file from storage (inspector's format: one uid
// a line, blank lines and # comment lines skipped).
func readUIDFile(ctx context.Context, fsys storage.FS, path string) ([]string, error) {
	f, err := fsys.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out, err := inspector.ReadUIDs(io.LimitReader(f, 16<<20), path)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no uids (one a line, # comments)", path)
	}
	return out, err
}

const (
	None     Verdict = iota
	Restored         // maps to an operator of the job
	Dropped          // has state, no operator claims it: needs allow-non-restored-state
	Skipped          // no operator claims it, but it holds no state: Flink skips it silently
	New              // an operator of the job with no state in the snapshot: starts empty
	Fails            // restoring it fails even with -n (max parallelism)
)
