// Package runner is the Go side of ckpt's runner for Flink: the Java program
// in this directory (runner/src, built by runner/build.sh into
// runner/target/ckpt-flink-runner.jar) that runs a job spec on Flink's
// DataStream API with the same operators, uids, parallelism and
// configuration as ckpt's engine. This package knows which operators the
// runner has a counterpart for (Supported; runner/ops_test.go keeps it equal
// to the Java list), refuses a spec using anything else before it is sent,
// finds the jar, and builds the program arguments it is run with.
package runner

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
)

// EntryClass is the runner jar's entry class.
const EntryClass = "dev.ckpt.runner.Runner"

// JarEnv names a runner jar to use instead of the one found next to ckpt.
const JarEnv = "CKPT_FLINK_RUNNER_JAR"

// JarName is the jar runner/build.sh writes (under runner/target/).
const JarName = "ckpt-flink-runner.jar"

// Supported lists the job spec operators the runner has a Flink
// counterpart for, sorted. The Java side has the same list (Ops.java).
var Supported = []string{
	"count",
	"dedupe",
	"discard",
	"fail",
	"file",
	"file-sink",
	"filter",
	"generator",
	"keyBy",
	"map",
	"split",
	"stdout",
	"sum",
	"window-count",
}

// UnsupportedError names a step of a spec the runner cannot run.
type UnsupportedError struct {
	File      string
	Line, Col int
	Step      int
	Op        string
	Have      []string // what the runner runs
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s:%d:%d: step %d (%s): ckpt's runner for Flink has no counterpart for %q, so this spec cannot run on Flink (it runs: %s); run it on ckpt's engine (ckpt run, or ckpt serve)",
		e.File, e.Line, e.Col, e.Step, e.Op, e.Op, strings.Join(e.Have, ", "))
}

// Check refuses a spec that uses an operator outside supported (Supported
// when nil), naming the first such step.
func Check(s *spec.Spec, supported []string) error {
	if supported == nil {
		supported = Supported
	}
	for i, st := range s.Pipeline {
		if !slices.Contains(supported, st.Op) {
			return &UnsupportedError{File: s.File, Line: st.Line, Col: st.Column, Step: i + 1, Op: st.Op, Have: supported}
		}
	}
	return nil
}

// Jar is the runner jar's bytes and the name it is uploaded under: the
// checksum is in the name, so a cluster that already has this very jar is
// recognised by GET /jars and it is not uploaded again.
type Jar struct {
	Path, UploadName string
	Data             []byte
}

// LoadJar reads the runner jar: $CKPT_FLINK_RUNNER_JAR, else
// runner/target/ckpt-flink-runner.jar of the ckpt checkout holding the
// working directory or the ckpt executable, else ckpt-flink-runner.jar
// beside the executable.
func LoadJar() (*Jar, error) {
	var tried []string
	var candidates []string
	if p := os.Getenv(JarEnv); p != "" {
		candidates = []string{p}
	} else {
		if wd, err := os.Getwd(); err == nil {
			candidates = append(candidates, checkoutJars(wd)...)
		}
		if exe, err := os.Executable(); err == nil {
			if r, err := filepath.EvalSymlinks(exe); err == nil {
				exe = r
			}
			candidates = append(candidates, checkoutJars(filepath.Dir(exe))...)
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), JarName))
		}
	}
	for _, p := range candidates {
		data, err := os.ReadFile(p)
		if err != nil {
			tried = append(tried, p)
			continue
		}
		sum := sha256.Sum256(data)
		return &Jar{Path: p, Data: data, UploadName: "ckpt-flink-runner-" + hex.EncodeToString(sum[:])[:16] + ".jar"}, nil
	}
	return nil, fmt.Errorf("ckpt's runner for Flink (%s) not found (tried %s): build it with `make runner` in ckpt's checkout, or set %s",
		JarName, strings.Join(tried, ", "), JarEnv)
}

// checkoutJars is runner/target/<jar> in dir and each of its parents.
func checkoutJars(dir string) []string {
	var out []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "runner", "build.sh")); err == nil {
			out = append(out, filepath.Join(d, "runner", "target", JarName))
		}
		if filepath.Dir(d) == d {
			return out
		}
	}
}

// Program is how the runner is started for a spec.
type Program struct {
	Args []string
	// Parallelism and MaxParallelism are the job's, as ckpt's engine would
	// resolve them (MaxParallelism -1: derived per operator, as Flink does).
	Parallelism, MaxParallelism int
	// Config is the job's Flink configuration: the spec's config section
	// with the submission's keys on top. It goes out as the run request's
	// flinkConfiguration, which Flink applies to the job (a program's own
	// configuration does not reach, e.g., its checkpoint storage on 2.x).
	Config map[string]string
}

// ProgramFor builds the runner's program arguments for spec s (its text as
// written) with the configuration of a submission (-D, -p) layered over the
// spec's, resolved the way ckpt's engine resolves them. workdir is where
// the spec's relative paths resolve (the engine would read them from
// there); conf is sent on as --conf key=value (it wins over the spec's
// config section).
func ProgramFor(s *spec.Spec, over *config.Config, conf map[string]string, workdir string) (*Program, error) {
	if err := Check(s, nil); err != nil {
		return nil, err
	}
	if over == nil {
		over = config.New()
	} else {
		over = over.Clone()
	}
	// The checkpoint directory often comes from the cluster's
	// configuration: a placeholder lets the spec's settings resolve (only
	// parallelism is read here).
	if !over.IsSet(config.CheckpointDir) && !s.Config.IsSet(config.CheckpointDir) {
		if err := over.Set(config.CheckpointDir, "file:///ckpt-runner-placeholder", "runner"); err != nil {
			return nil, err
		}
	}
	cfg, err := s.Configure(over)
	if err != nil {
		return nil, err
	}
	_, o, err := s.Build(cfg)
	if err != nil {
		return nil, err
	}
	if s.Text == "" {
		return nil, errors.New(s.File + ": job spec has no text")
	}
	p := &Program{Parallelism: o.Parallelism, MaxParallelism: o.MaxParallelism, Config: s.Config.Map()}
	for k, v := range conf {
		p.Config[k] = v
	}
	p.Args = []string{"--spec-base64", base64.StdEncoding.EncodeToString([]byte(s.Text)),
		"--parallelism", strconv.Itoa(o.Parallelism)}
	if o.MaxParallelism > 0 {
		p.Args = append(p.Args, "--max-parallelism", strconv.Itoa(o.MaxParallelism))
	}
	if workdir != "" {
		p.Args = append(p.Args, "--workdir", workdir)
	}
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p.Args = append(p.Args, "--conf", k+"="+conf[k])
	}
	return p, nil
}
