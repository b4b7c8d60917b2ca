// Package config holds the engine's configuration under Flink's own key
// names. Both spellings are accepted: the 1.x names (state.checkpoints.dir,
// state.checkpoints.num-retained, ...) and the 1.20+/2.x names
// (execution.checkpointing.dir, execution.checkpointing.num-retained, ...);
// internally everything is stored under the new name, so a value given with
// either spelling wins over defaults and the later setting wins over the
// earlier one. Sources: a ckpt config file (flat "key: value" lines or nested
// YAML maps as in Flink 2.x's config.yaml), job specs and -D flags.
package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/storage"
)

// Canonical key names (Flink 1.20+/2.x).
const (
	CheckpointDir        = "execution.checkpointing.dir"
	SavepointDir         = "execution.checkpointing.savepoint-dir"
	NumRetained          = "execution.checkpointing.num-retained"
	Retention            = "execution.checkpointing.externalized-checkpoint-retention"
	Interval             = "execution.checkpointing.interval"
	Timeout              = "execution.checkpointing.timeout"
	MinPause             = "execution.checkpointing.min-pause"
	MaxConcurrent        = "execution.checkpointing.max-concurrent-checkpoints"
	TolerableFailures    = "execution.checkpointing.tolerable-failed-checkpoints"
	Mode                 = "execution.checkpointing.mode"
	Incremental          = "execution.checkpointing.incremental"
	CreateSubdir         = "execution.checkpointing.create-subdir"
	Storage              = "execution.checkpointing.storage"
	StateBackend         = "state.backend.type"
	RestartStrategy      = "restart-strategy.type"
	RestartAttempts      = "restart-strategy.fixed-delay.attempts"
	RestartDelay         = "restart-strategy.fixed-delay.delay"
	Parallelism          = "parallelism.default"
	MaxParallelism       = "pipeline.max-parallelism"
	RestorePath          = "execution.state-recovery.path"
	IgnoreUnclaimedState = "execution.state-recovery.ignore-unclaimed-state"
	ClaimMode            = "execution.state-recovery.claim-mode"
	LocalDir             = "ckpt.local-dir"
)

// aliases maps older (1.x) names to the canonical one.
var aliases = map[string]string{
	"state.checkpoints.dir":                      CheckpointDir,
	"state.savepoints.dir":                       SavepointDir,
	"state.checkpoints.num-retained":             NumRetained,
	"state.checkpoint-storage":                   Storage,
	"state.checkpoints.create-subdir":            CreateSubdir,
	"state.backend.incremental":                  Incremental,
	"state.backend":                              StateBackend,
	"execution.savepoint.path":                   RestorePath,
	"execution.savepoint.ignore-unclaimed-state": IgnoreUnclaimedState,
	"execution.savepoint-restore-mode":           ClaimMode,
	"restart-strategy":                           RestartStrategy,
}

type kind int

const (
	kString kind = iota
	kDuration
	kInt
	kBool
	kEnum
	kURI
)

type keyDef struct {
	kind    kind
	def     string   // default value ("" = unset)
	values  []string // for kEnum, upper-case
	minimum int      // for kInt
	maximum int      // for kInt (0 = none)
	why     string   // why the maximum, for the error
	// minDur is the least positive duration (kDuration; 0 is always allowed
	// where it means "off").
	minDur time.Duration
	doc    string
}

// MinCheckpointTime is Flink's MINIMAL_CHECKPOINT_TIME: the least
// checkpoint interval and timeout.
const MinCheckpointTime = 10 * time.Millisecond

// MaxFileBytes bounds a configuration file (Flink's config.yaml is a few KiB).
const MaxFileBytes = 1 << 20

// Keys lists every key the engine understands, with its default.
var defs = map[string]keyDef{
	CheckpointDir:     {kind: kURI, doc: "where checkpoints go: <dir>/<job-id>/chk-N (local path, file://, hdfs://)"},
	SavepointDir:      {kind: kURI, doc: "default savepoint target directory"},
	NumRetained:       {kind: kInt, def: "1", minimum: 1, doc: "completed checkpoints kept"},
	Retention:         {kind: kEnum, def: "NO_EXTERNALIZED_CHECKPOINTS", values: []string{"NO_EXTERNALIZED_CHECKPOINTS", "DELETE_ON_CANCELLATION", "RETAIN_ON_CANCELLATION"}, doc: "what happens to retained checkpoints when the job ends"},
	Interval:          {kind: kDuration, minDur: MinCheckpointTime, doc: "checkpoint interval; unset = no periodic checkpoints"},
	Timeout:           {kind: kDuration, def: "10 min", minDur: MinCheckpointTime, doc: "a checkpoint not complete by then is aborted"},
	MinPause:          {kind: kDuration, def: "0 ms", doc: "least time between the end of one checkpoint and the start of the next"},
	MaxConcurrent:     {kind: kInt, def: "1", minimum: 1, doc: "checkpoints in flight at once"},
	TolerableFailures: {kind: kInt, def: "0", minimum: 0, doc: "consecutive failed checkpoints tolerated before the job fails over"},
	Mode:              {kind: kEnum, def: "EXACTLY_ONCE", values: []string{"EXACTLY_ONCE", "AT_LEAST_ONCE"}, doc: "barrier alignment (EXACTLY_ONCE) or none (AT_LEAST_ONCE)"},
	Incremental:       {kind: kBool, def: "true", doc: "upload only new SST files into shared/ (false: every checkpoint is full and self-contained)"},
	CreateSubdir:      {kind: kBool, def: "true", doc: "put checkpoints under <dir>/<job-id>/"},
	Storage:           {kind: kEnum, def: "FILESYSTEM", values: []string{"FILESYSTEM", "JOBMANAGER"}, doc: "accepted for compatibility; ckpt always writes to the checkpoint dir"},
	StateBackend:      {kind: kEnum, def: "PEBBLE", values: []string{"PEBBLE", "ROCKSDB", "HASHMAP", "FORST"}, doc: "accepted for compatibility; ckpt keeps keyed state in Pebble whatever is named"},
	RestartStrategy:   {kind: kEnum, def: "FIXED-DELAY", values: []string{"FIXED-DELAY", "FIXEDDELAY", "NONE", "OFF", "DISABLE", "NO_RESTART_STRATEGY"}, doc: "what a failing task does to the job"},
	RestartAttempts:   {kind: kInt, def: "2147483647", minimum: 0, doc: "restarts before the job fails"},
	RestartDelay:      {kind: kDuration, def: "1 s", doc: "wait before a restart"},
	Parallelism: {kind: kInt, def: "1", minimum: 1, maximum: graph.MaxOperatorParallelism, why: "the embedded engine's limit per operator",
		doc: "parallelism of operators that set none"},
	MaxParallelism: {kind: kInt, def: "-1", minimum: -1, maximum: keygroup.UpperBound, why: "Flink's limit on key groups",
		doc: "key groups; -1 derives it from the parallelism"},
	RestorePath:          {kind: kURI, doc: "snapshot to restore from at start"},
	IgnoreUnclaimedState: {kind: kBool, def: "false", doc: "skip snapshot state that maps to no operator"},
	ClaimMode:            {kind: kEnum, def: "NO_CLAIM", values: []string{"NO_CLAIM", "CLAIM", "LEGACY"}, doc: "who owns the restored snapshot's files"},
	LocalDir:             {kind: kString, doc: "local working directory for state (default: a temporary directory)"},
}

// Canonical returns the canonical name of key (resolving 1.x aliases) and
// whether the engine knows it.
func Canonical(key string) (string, bool) {
	k := strings.TrimSpace(key)
	if c, ok := aliases[k]; ok {
		k = c
	}
	_, ok := defs[k]
	return k, ok
}

// Config is a set of key/value settings under canonical names.
type Config struct {
	values  map[string]string
	origin  map[string]string // where each value came from, for errors
	unknown []string
}

// New returns an empty configuration (every key at its default).
func New() *Config { return &Config{values: map[string]string{}, origin: map[string]string{}} }

// Clone copies c.
func (c *Config) Clone() *Config {
	n := New()
	for k, v := range c.values {
		n.values[k] = v
	}
	for k, v := range c.origin {
		n.origin[k] = v
	}
	n.unknown = append([]string(nil), c.unknown...)
	return n
}

// Set records key=value (either spelling of the key). Known keys are
// validated at once so a bad -D value fails before the job starts; unknown
// keys are kept (Flink passes them through) and reported by Unknown.
func (c *Config) Set(key, value, origin string) error {
	k, known := Canonical(key)
	if k == "" {
		return fmt.Errorf("%s: empty configuration key", origin)
	}
	value = strings.TrimSpace(value)
	if known {
		if err := validate(k, value); err != nil {
			if k != strings.TrimSpace(key) {
				return fmt.Errorf("%s: %s (%s): %v", origin, key, k, err)
			}
			return fmt.Errorf("%s: %s: %v", origin, key, err)
		}
	} else {
		c.unknown = append(c.unknown, key)
	}
	c.values[k] = value
	c.origin[k] = origin
	return nil
}

// SetDynamic parses one -D argument, "key=value".
func (c *Config) SetDynamic(arg string) error {
	k, v, ok := strings.Cut(arg, "=")
	if !ok {
		return fmt.Errorf("-D %s: expected key=value", arg)
	}
	return c.Set(k, v, "-D "+strings.TrimSpace(k))
}

// Get returns the value of key (either spelling) or its default.
func (c *Config) Get(key string) string {
	k, _ := Canonical(key)
	if v, ok := c.values[k]; ok {
		return v
	}
	return defs[k].def
}

// IsSet reports whether key was set explicitly.
func (c *Config) IsSet(key string) bool {
	k, _ := Canonical(key)
	_, ok := c.values[k]
	return ok
}

// Origin says where key (either spelling) was set: "file.yaml:3",
// "-D key", "-p", ...; "" when it was not.
func (c *Config) Origin(key string) string {
	k, _ := Canonical(key)
	return c.origin[k]
}

// Unknown lists the keys set that the engine does not understand (likely
// typos); they are ignored.
func (c *Config) Unknown() []string { return append([]string(nil), c.unknown...) }

// Map returns every explicitly set key with its value, canonical names.
func (c *Config) Map() map[string]string {
	m := make(map[string]string, len(c.values))
	for k, v := range c.values {
		m[k] = v
	}
	return m
}

// KnownKeys lists the canonical keys with their 1.x aliases and defaults, for
// documentation and help output.
func KnownKeys() []KeyDoc {
	var out []KeyDoc
	for k, d := range defs {
		kd := KeyDoc{Key: k, Default: d.def, Doc: d.doc}
		for old, c := range aliases {
			if c == k && strings.TrimSpace(old) == old {
				kd.Aliases = append(kd.Aliases, old)
			}
		}
		sort.Strings(kd.Aliases)
		out = append(out, kd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// KeyDoc documents one key.
type KeyDoc struct {
	Key, Default, Doc string
	Aliases           []string
}

func validate(key, v string) error {
	d := defs[key]
	switch d.kind {
	case kDuration:
		dur, err := ParseDuration(v)
		if err != nil {
			return err
		}
		if dur == 0 && key == Timeout {
			return fmt.Errorf("must be positive")
		}
		if dur > 0 && dur < d.minDur {
			return fmt.Errorf("%s is below the minimum of %s (Flink's)", v, FormatDuration(d.minDur))
		}
	case kInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if n < d.minimum {
			return fmt.Errorf("%d is below the minimum %d", n, d.minimum)
		}
		if key == MaxParallelism && n == 0 {
			return fmt.Errorf("0 is not a max parallelism: -1 (derived) or between 1 and %d", keygroup.UpperBound)
		}
		if d.maximum > 0 && n > d.maximum {
			return fmt.Errorf("%d is above the maximum %d (%s)", n, d.maximum, d.why)
		}
	case kBool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
	case kEnum:
		u := strings.ToUpper(v)
		for _, a := range d.values {
			if u == a {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(d.values, ", "))
	case kURI:
		if v == "" {
			return fmt.Errorf("empty path")
		}
	}
	return nil
}

// LoadFile reads a ckpt config file: YAML with either flat Flink keys
// ("execution.checkpointing.interval: 1 s") or nested maps
// ("execution: {checkpointing: {interval: 1 s}}"), as Flink 2.x's
// config.yaml allows. Later settings override earlier ones.
//
// Only a regular file of at most MaxFileBytes is read: a named pipe or a
// device is refused at once rather than read forever.
func (c *Config) LoadFile(path string) error {
	data, err := storage.ReadRegular(path, MaxFileBytes)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	return c.LoadYAML(path, data)
}

// LoadYAML reads config YAML from data; name labels errors.
func (c *Config) LoadYAML(name string, data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	if len(root.Content) == 0 {
		return nil
	}
	return c.LoadNode(name, root.Content[0], "")
}

// LoadNode reads a YAML mapping node of settings (used for a job spec's
// config section too); prefix is the dotted path so far. A key given twice
// — literally, or once flat and once nested, or under its 1.x and its 2.x
// name — is an error naming both lines: which one was meant is unknowable.
func (c *Config) LoadNode(name string, n *yaml.Node, prefix string) error {
	return c.loadNode(name, n, prefix, map[string]*yaml.Node{})
}

func (c *Config) loadNode(name string, n *yaml.Node, prefix string, seen map[string]*yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: configuration must be a map of key: value", name, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := kn.Value
		if prefix != "" {
			key = prefix + "." + key
		}
		switch vn.Kind {
		case yaml.MappingNode:
			if err := c.loadNode(name, vn, key, seen); err != nil {
				return err
			}
		case yaml.ScalarNode:
			ck, _ := Canonical(key)
			if first, dup := seen[ck]; dup {
				return fmt.Errorf("%s:%d: %s: set twice (first on line %d)", name, kn.Line, key, first.Line)
			}
			seen[ck] = kn
			if err := c.Set(key, vn.Value, fmt.Sprintf("%s:%d", name, kn.Line)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s:%d: %s: expected a single value", name, kn.Line, key)
		}
	}
	return nil
}

// RetentionPolicy is Flink's ExternalizedCheckpointRetention.
type RetentionPolicy string

const (
	NoExternalized       RetentionPolicy = "NO_EXTERNALIZED_CHECKPOINTS"
	DeleteOnCancellation RetentionPolicy = "DELETE_ON_CANCELLATION"
	RetainOnCancellation RetentionPolicy = "RETAIN_ON_CANCELLATION"
)

// Checkpointing is the typed view of the checkpoint settings.
type Checkpointing struct {
	Dir           string // "" = checkpoints disabled unless Interval set (then an error)
	SavepointDir  string
	Interval      time.Duration // 0 = no periodic checkpoints
	Timeout       time.Duration
	MinPause      time.Duration
	MaxConcurrent int
	Tolerable     int
	NumRetained   int
	Retention     RetentionPolicy
	ExactlyOnce   bool
	Incremental   bool
	CreateSubdir  bool
}

// Restart is the typed restart strategy.
type Restart struct {
	Enabled  bool
	Attempts int
	Delay    time.Duration
}

// Options is the whole typed configuration.
type Options struct {
	Checkpointing    Checkpointing
	Restart          Restart
	Parallelism      int
	MaxParallelism   int // -1 = derived per operator
	RestorePath      string
	AllowNonRestored bool
	ClaimMode        string
	LocalDir         string
}

// at is "<where key was set>: " for errors, or "" for a default.
func (c *Config) at(key string) string {
	if o := c.origin[key]; o != "" {
		return o + ": "
	}
	return ""
}

// Resolve turns the settings into typed options. Values were validated by
// Set, so errors here are about combinations.
func (c *Config) Resolve() (Options, error) {
	dur := func(k string) time.Duration {
		d, _ := ParseDuration(c.Get(k))
		return d
	}
	num := func(k string) int {
		n, _ := strconv.Atoi(c.Get(k))
		return n
	}
	flag := func(k string) bool {
		b, _ := strconv.ParseBool(c.Get(k))
		return b
	}
	var o Options
	cp := &o.Checkpointing
	cp.Dir = c.Get(CheckpointDir)
	cp.SavepointDir = c.Get(SavepointDir)
	if c.IsSet(Interval) {
		cp.Interval = dur(Interval)
	}
	cp.Timeout = dur(Timeout)
	cp.MinPause = dur(MinPause)
	cp.MaxConcurrent = num(MaxConcurrent)
	cp.Tolerable = num(TolerableFailures)
	cp.NumRetained = num(NumRetained)
	cp.Retention = RetentionPolicy(strings.ToUpper(c.Get(Retention)))
	cp.ExactlyOnce = strings.ToUpper(c.Get(Mode)) == "EXACTLY_ONCE"
	cp.Incremental = flag(Incremental)
	cp.CreateSubdir = flag(CreateSubdir)
	if cp.Interval > 0 && cp.Interval < MinCheckpointTime {
		return o, fmt.Errorf("%s%s: %s is below the minimum of 10 ms", c.at(Interval), Interval, c.Get(Interval))
	}
	if cp.Interval > 0 && cp.Dir == "" {
		return o, fmt.Errorf("%s%s is set but %s (or state.checkpoints.dir) is not: checkpoints need a directory", c.at(Interval), Interval, CheckpointDir)
	}
	if cp.Timeout <= 0 {
		return o, fmt.Errorf("%s%s: must be positive", c.at(Timeout), Timeout)
	}
	switch strings.ToUpper(c.Get(RestartStrategy)) {
	case "NONE", "OFF", "DISABLE", "NO_RESTART_STRATEGY":
	default:
		o.Restart.Enabled = true
	}
	o.Restart.Attempts = num(RestartAttempts)
	o.Restart.Delay = dur(RestartDelay)
	o.Parallelism = num(Parallelism)
	o.MaxParallelism = num(MaxParallelism)
	if o.MaxParallelism == 0 || o.MaxParallelism > keygroup.UpperBound {
		return o, fmt.Errorf("%s%s: %d must be -1 (derived) or between 1 and %d", c.at(MaxParallelism), MaxParallelism, o.MaxParallelism, keygroup.UpperBound)
	}
	if o.MaxParallelism > 0 && o.Parallelism > o.MaxParallelism {
		return o, fmt.Errorf("%s%s %d exceeds %s %d (%s): Flink requires max parallelism ≥ parallelism",
			c.at(Parallelism), Parallelism, o.Parallelism, MaxParallelism, o.MaxParallelism, c.origin[MaxParallelism])
	}
	o.RestorePath = c.Get(RestorePath)
	o.AllowNonRestored = flag(IgnoreUnclaimedState)
	o.ClaimMode = strings.ToUpper(c.Get(ClaimMode))
	o.LocalDir = c.Get(LocalDir)
	return o, nil
}
