package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
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
	_, g, err := s.Prepare(nil, over)
	if err != nil {
		return inspector.Target{}, err
	}
	t := g.ResumeTarget("job spec " + path)
	declareStates(s, &t)
	return t, nil
}

// builtinStates is the keyed state each built-in operator registers
// (engine/builtin: state.Value with state.Int64 or state.Bytes), typed as
// Flink's serializers type it; ckpt's keys are Strings.
var builtinStates = map[string][]inspector.DeclaredState{
	"count":        {longValue("count")},
	"sum":          {longValue("sum")},
	"dedupe":       {longValue("seen")},
	"window-count": {{Name: "windows", Kind: "VALUE", Namespace: &state.Type{Kind: state.KindVoidNamespace}, Value: &state.Type{Kind: state.KindBytes}}},
}

func longValue(name string) inspector.DeclaredState {
	return inspector.DeclaredState{Name: name, Kind: "VALUE", Namespace: &state.Type{Kind: state.KindVoidNamespace}, Value: &state.Type{Kind: state.KindLong}}
}

// declareStates gives each keyed built-in of t (built from s, one vertex
// per step but keyBy, in order) the state it registers, so the dry run
// can apply Flink's serializer checks.
func declareStates(s *spec.Spec, t *inspector.Target) {
	var steps []spec.Step
	for _, st := range s.Pipeline {
		if st.Op != "keyBy" {
			steps = append(steps, st)
		}
	}
	if len(steps) != len(t.Operators) {
		return // not the shape Graph builds: declare nothing rather than guess
	}
	for i, st := range steps {
		if ds, ok := builtinStates[st.Op]; ok {
			t.Operators[i].Declared = &inspector.DeclaredSchema{Key: &state.Type{Kind: state.KindString}, States: ds}
		}
	}
}

// maxUIDsFileBytes bounds a uids file (one uid per line: a million
// operators fit).
const maxUIDsFileBytes = 64 << 20

// readUIDsFile reads a uids file: a regular file, bounded (a named pipe
// or a device is refused at once).
func readUIDsFile(path string) ([]string, error) {
	b, err := storage.ReadRegular(path, maxUIDsFileBytes)
	if err != nil {
		return nil, fmt.Errorf("uids file: %w", err)
	}
	return inspector.ReadUIDs(bytes.NewReader(b), path)
}

// refuseIrregular refuses a path given to flag that exists but is not a
// regular file (a FIFO, a device, a directory), for code that reads it
// later; a missing path is left to that code's own error.
func refuseIrregular(flag, path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() && flag == "--against" {
			return nil // not a file: a uid list
		}
		return fmt.Errorf("%s: %w", flag, storage.FileTypeError(path, fi.Mode()))
	}
	return nil
}

// targetFrom turns an --against value into a target: a job spec file, a
// uids file (one per line), or a comma-separated uid list. Whatever exists
// at the path but is not a regular file (a FIFO, /dev/zero) is refused,
// never read.
func targetFrom(against string) (inspector.Target, error) {
	if fi, err := os.Stat(against); err == nil && !fi.IsDir() {
		b, err := storage.ReadRegular(against, maxUIDsFileBytes)
		if err != nil {
			return inspector.Target{}, fmt.Errorf("--against: %w", err)
		}
		if spec.LooksLikeSpec(against, b) {
			return specTarget(against)
		}
		uids, err := inspector.ReadUIDs(bytes.NewReader(b), against)
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
		more, err := readUIDsFile(uidsFile)
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
		out = append(out, t.MappingEntries()...)
	}
	return out, nil
}
