// Package spec reads declarative job specs (YAML) and turns them into job
// graphs of built-in operators. Decoding is strict: an unknown field, a
// value of the wrong type or an operator out of place is an error naming
// the file, line and field (with a suggestion for likely typos).
//
//	name: counts
//	parallelism: 2
//	config:                          # Flink configuration keys (optional)
//	  execution.checkpointing.interval: 1 s
//	pipeline:
//	  - op: generator
//	    uid: source
//	    keys: 1000
//	    rate: 5000
//	  - op: keyBy
//	  - op: count
//	    uid: counter
//	  - op: file-sink
//	    uid: sink
//	    path: out/counts
package spec

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/internal/units"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/storage"
)

// MaxFileBytes bounds a job spec file: the size `ckpt serve` accepts for an
// uploaded spec. Real specs are a few KiB.
const MaxFileBytes = 1 << 20

// Spec is a parsed job spec.
type Spec struct {
	File           string
	Name           string
	Parallelism    int
	MaxParallelism int
	// Config holds the spec's configuration section (Flink keys).
	Config   *config.Config
	Pipeline []Step
	// Text is the spec as read.
	Text string
}

// Step is one pipeline entry.
type Step struct {
	Line, Column   int
	Op             string
	UID, Name      string
	Parallelism    int
	MaxParallelism int
	Params         map[string]*yaml.Node
	uid            *yaml.Node
}

type kind int

const (
	kSource kind = iota
	kOperator
	kKeyBy
	kKeyed
	kSink
)

type param struct {
	typ      string // int, float, string, duration, bool
	required bool
	doc      string
	// min is the least value of an int or float (NaN = any value); a
	// duration is never negative and at least minDur.
	min    float64
	minDur time.Duration
}

// anyValue is the min of a number that may be negative.
var anyValue = math.NaN()

type opDef struct {
	kind   kind
	params map[string]param
	doc    string
}

// Ops documents every built-in (used for validation and `ckpt run --help`).
var ops = map[string]opDef{
	"generator": {kind: kSource, doc: "rate-limited generator of (key-<n mod keys>, 1)", params: map[string]param{
		"keys": {typ: "int", min: 1, doc: "key space (default 1000)"}, "rate": {typ: "float", doc: "records/s over all subtasks (0 = unlimited)"},
		"limit": {typ: "int", doc: "total records (0 = unbounded)"}, "keyPrefix": {typ: "string", doc: "key prefix (default key-)"},
		"timeStep": {typ: "duration", doc: "event time between records (default 1 ms)"}}},
	"file":         {kind: kSource, doc: "lines of a file", params: map[string]param{"path": {typ: "string", required: true}}},
	"map":          {kind: kOperator, doc: "built-in function", params: map[string]param{"fn": {typ: "string", required: true, doc: "upper, lower, length, value-one"}}},
	"filter":       {kind: kOperator, doc: "keep matching records", params: map[string]param{"keyPrefix": {typ: "string"}, "keyContains": {typ: "string"}, "minValue": {typ: "int", min: anyValue}}},
	"split":        {kind: kOperator, doc: "one record per word of the key"},
	"fail":         {kind: kOperator, doc: "fault injection: fail after N records", params: map[string]param{"after": {typ: "int", required: true}, "attempts": {typ: "int"}, "panic": {typ: "bool"}}},
	"keyBy":        {kind: kKeyBy, doc: "partition by key; the next operator is keyed"},
	"count":        {kind: kKeyed, doc: "running count per key"},
	"sum":          {kind: kKeyed, doc: "running sum of values per key"},
	"dedupe":       {kind: kKeyed, doc: "first record of each key"},
	"window-count": {kind: kKeyed, doc: "count per key in tumbling event-time windows", params: map[string]param{"size": {typ: "duration", required: true, minDur: time.Millisecond}}},
	"file-sink":    {kind: kSink, doc: "exactly-once files (committed on checkpoints)", params: map[string]param{"path": {typ: "string", required: true}}},
	"stdout":       {kind: kSink, doc: "print key,value lines; at-least-once: after a failover or resume, lines printed since the restored checkpoint print again", params: map[string]param{"prefix": {typ: "string"}}},
	"discard":      {kind: kSink, doc: "drop records"},
}

var commonFields = []string{"op", "uid", "name", "parallelism", "maxParallelism"}

// OpNames lists the built-in operator names.
func OpNames() []string {
	var out []string
	for n := range ops {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Load reads and validates a spec file. Only a regular file of at most
// MaxFileBytes is read: a named pipe or a device (/dev/zero) is refused at
// once instead of blocking or filling memory.
func Load(path string) (*Spec, error) {
	data, err := storage.ReadRegular(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("job spec: %w", err)
	}
	return Parse(path, data)
}

type errAt struct {
	file      string
	line, col int
	msg       string
}

func (e *errAt) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.file, e.line, e.col, e.msg) }

// Parse reads a spec from data; file names it in errors.
func Parse(file string, data []byte) (*Spec, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: job spec larger than %s (%s)", file, units.Bytes(MaxFileBytes), units.Bytes(int64(len(data))))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty job spec", file)
	}
	root := doc.Content[0]
	at := func(n *yaml.Node, f string, a ...any) error {
		return &errAt{file: file, line: n.Line, col: n.Column, msg: fmt.Sprintf(f, a...)}
	}
	if root.Kind != yaml.MappingNode {
		return nil, at(root, "a job spec is a map with name, pipeline and optional parallelism, maxParallelism, config")
	}
	s := &Spec{File: file, Config: config.New(), Text: string(data)}
	var pipeline *yaml.Node
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			return nil, at(k, "field %q given twice (first on line %d)", k.Value, first.Line)
		}
		seen[k.Value] = k
		var err error
		switch k.Value {
		case "name":
			s.Name, err = str(v, at, "name")
		case "parallelism":
			s.Parallelism, err = parallelism(v, at, "parallelism")
		case "maxParallelism":
			s.MaxParallelism, err = maxParallelism(v, at, "maxParallelism")
		case "config":
			err = s.Config.LoadNode(file, v, "")
		case "pipeline":
			pipeline = v
		default:
			err = at(k, "unknown field %q%s (job spec fields: name, parallelism, maxParallelism, config, pipeline)",
				k.Value, suggest(k.Value, []string{"name", "parallelism", "maxParallelism", "config", "pipeline"}))
		}
		if err != nil {
			return nil, err
		}
	}
	if s.Name == "" {
		return nil, at(root, "missing field \"name\"")
	}
	if pipeline == nil || pipeline.Kind != yaml.SequenceNode || len(pipeline.Content) == 0 {
		return nil, at(root, "missing or empty \"pipeline\" (a list of steps, each with an op)")
	}
	if s.MaxParallelism > 0 && s.Parallelism > s.MaxParallelism {
		return nil, at(seen["maxParallelism"], "parallelism %d exceeds maxParallelism %d (Flink requires maxParallelism ≥ parallelism)", s.Parallelism, s.MaxParallelism)
	}
	uids := map[string]int{}
	for i, n := range pipeline.Content {
		st, err := parseStep(i+1, n, at)
		if err != nil {
			return nil, err
		}
		if st.UID != "" {
			if j, dup := uids[st.UID]; dup {
				return nil, at(st.uid, "step %d (%s): uid %q is already the uid of step %d (line %d): uids must be unique in a job", i+1, st.Op, st.UID, j+1, s.Pipeline[j].Line)
			}
			uids[st.UID] = i
		}
		s.Pipeline = append(s.Pipeline, st)
	}
	// The graph is built and checked with the spec's own settings; Build
	// checks it again with the configuration a run layers on top.
	cfg, err := s.Configure(nil)
	if err != nil {
		return nil, err
	}
	g, err := s.Graph()
	if err != nil {
		return nil, err
	}
	p, _ := strconv.Atoi(cfg.Get(config.Parallelism))
	maxP, _ := strconv.Atoi(cfg.Get(config.MaxParallelism))
	if err := s.finalize(g, p, maxP); err != nil {
		return nil, err
	}
	return s, nil
}

// Build resolves cfg (the result of Configure) and builds the job graph,
// finalized with its parallelism and max parallelism: what a run submits.
// Every error names the spec file, and the step's line when it concerns
// one operator.
func (s *Spec) Build(cfg *config.Config) (*graph.Graph, config.Options, error) {
	o, err := cfg.Resolve()
	if err != nil {
		return nil, o, fmt.Errorf("%s: %w", s.File, err)
	}
	g, err := s.Graph()
	if err != nil {
		return nil, o, err
	}
	if err := s.finalize(g, o.Parallelism, o.MaxParallelism); err != nil {
		return nil, o, err
	}
	return g, o, nil
}

// finalize finalizes g, naming the step of an operator that fails.
func (s *Spec) finalize(g *graph.Graph, p, maxP int) error {
	err := g.Finalize(p, maxP)
	if err == nil {
		return nil
	}
	var ve *graph.VertexError
	if errors.As(err, &ve) {
		// Every step but keyBy adds one vertex, in order.
		v := 0
		for i, st := range s.Pipeline {
			if st.Op == "keyBy" {
				continue
			}
			if v == ve.Vertex.Index {
				return &errAt{file: s.File, line: st.Line, col: st.Column, msg: fmt.Sprintf("step %d (%s): %v", i+1, st.Op, ve.Err)}
			}
			v++
		}
	}
	return fmt.Errorf("%s: %w", s.File, err)
}

type atFunc func(n *yaml.Node, f string, a ...any) error

func str(v *yaml.Node, at atFunc, field string) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", at(v, "%s: expected a single value", field)
	}
	return v.Value, nil
}

func positive(v *yaml.Node, at atFunc, field string) (int, error) {
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || err != nil || n < 1 {
		return 0, at(v, "%s: %q is not a positive integer", field, v.Value)
	}
	return n, nil
}

func parallelism(v *yaml.Node, at atFunc, field string) (int, error) {
	n, err := positive(v, at, field)
	if err == nil && n > graph.MaxOperatorParallelism {
		err = at(v, "%s: %d is above the embedded engine's limit of %d per operator", field, n, graph.MaxOperatorParallelism)
	}
	return n, err
}

func maxParallelism(v *yaml.Node, at atFunc, field string) (int, error) {
	n, err := positive(v, at, field)
	if err == nil && n > keygroup.UpperBound {
		err = at(v, "%s: %d is above Flink's limit of %d key groups", field, n, keygroup.UpperBound)
	}
	return n, err
}

func parseStep(idx int, n *yaml.Node, at atFunc) (Step, error) {
	st := Step{Line: n.Line, Column: n.Column, Params: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		return st, at(n, "step %d: expected a map with an op field", idx)
	}
	var opNode *yaml.Node
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if first, dup := fields[k.Value]; dup {
			return st, at(k, "step %d: field %q given twice (first on line %d)", idx, k.Value, first.Line)
		}
		fields[k.Value] = k
		if k.Value == "op" {
			opNode = v
		}
	}
	if opNode == nil {
		return st, at(n, "step %d: missing field \"op\" (one of %s)", idx, strings.Join(OpNames(), ", "))
	}
	st.Op = opNode.Value
	def, ok := ops[st.Op]
	if !ok {
		return st, at(opNode, "step %d: unknown op %q%s (one of %s)", idx, st.Op, suggest(st.Op, OpNames()), strings.Join(OpNames(), ", "))
	}
	label := fmt.Sprintf("step %d (%s)", idx, st.Op)
	allowed := append([]string(nil), commonFields...)
	if def.kind == kKeyBy {
		allowed = []string{"op"}
	}
	for p := range def.params {
		allowed = append(allowed, p)
	}
	sort.Strings(allowed)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch {
		case k.Value == "op":
		case !contains(allowed, k.Value):
			err = at(k, "%s: unknown field %q%s (fields: %s)", label, k.Value, suggest(k.Value, allowed), strings.Join(allowed, ", "))
		case k.Value == "uid":
			st.uid = v
			st.UID, err = str(v, at, label+": uid")
			if err == nil && st.UID == "" {
				err = at(v, "%s: uid must not be empty", label)
			}
		case k.Value == "name":
			st.Name, err = str(v, at, label+": name")
		case k.Value == "parallelism":
			st.Parallelism, err = parallelism(v, at, label+": parallelism")
		case k.Value == "maxParallelism":
			st.MaxParallelism, err = maxParallelism(v, at, label+": maxParallelism")
		default:
			err = checkParam(v, def.params[k.Value], at, label+": "+k.Value)
			st.Params[k.Value] = v
		}
		if err != nil {
			return st, err
		}
	}
	for p, d := range def.params {
		if d.required && st.Params[p] == nil {
			return st, at(n, "%s: missing field %q", label, p)
		}
	}
	if st.Parallelism > 0 && st.MaxParallelism > 0 && st.Parallelism > st.MaxParallelism {
		return st, at(n, "%s: parallelism %d exceeds maxParallelism %d (Flink requires maxParallelism ≥ parallelism)", label, st.Parallelism, st.MaxParallelism)
	}
	return st, nil
}

func checkParam(v *yaml.Node, p param, at atFunc, field string) error {
	if v.Kind != yaml.ScalarNode {
		return at(v, "%s: expected a single value", field)
	}
	var err error
	var num float64
	switch p.typ {
	case "int":
		var n int64
		n, err = strconv.ParseInt(v.Value, 10, 64)
		num = float64(n)
	case "float":
		num, err = strconv.ParseFloat(v.Value, 64)
		if err == nil && (math.IsNaN(num) || math.IsInf(num, 0)) {
			return at(v, "%s: %q is not a finite number", field, v.Value)
		}
	case "bool":
		_, err = strconv.ParseBool(v.Value)
	case "duration":
		var d time.Duration
		d, err = config.ParseDuration(v.Value)
		if err == nil && d < p.minDur {
			return at(v, "%s: %s is below the minimum of %s", field, v.Value, config.FormatDuration(p.minDur))
		}
	}
	if err != nil {
		return at(v, "%s: %q is not a valid %s", field, v.Value, p.typ)
	}
	// Counts, rates and limits are never negative (min 0 unless said).
	if (p.typ == "int" || p.typ == "float") && !math.IsNaN(p.min) && num < p.min {
		if p.min == 0 {
			return at(v, "%s: %s is negative", field, v.Value)
		}
		return at(v, "%s: %s is below the minimum of %v", field, v.Value, p.min)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest proposes the closest known name for a likely typo.
func suggest(got string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(got), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" — did you mean %q?", best)
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (st Step) str(k string) string {
	if n := st.Params[k]; n != nil {
		return n.Value
	}
	return ""
}

func (st Step) int(k string) int64 {
	n, _ := strconv.ParseInt(st.str(k), 10, 64)
	return n
}

func (st Step) float(k string) float64 {
	f, _ := strconv.ParseFloat(st.str(k), 64)
	return f
}

func (st Step) dur(k string) time.Duration {
	if st.str(k) == "" {
		return 0
	}
	d, _ := config.ParseDuration(st.str(k))
	return d
}

// Graph builds the job graph the spec describes. Each call builds a fresh
// graph (operators are created per subtask by the factories).
func (s *Spec) Graph() (*graph.Graph, error) {
	g := graph.New(s.Name)
	var cur *graph.Stream
	keyed := false
	errAtStep := func(i int, st Step, f string, a ...any) error {
		return &errAt{file: s.File, line: st.Line, col: st.Column, msg: fmt.Sprintf("step %d (%s): ", i+1, st.Op) + fmt.Sprintf(f, a...)}
	}
	for i, st := range s.Pipeline {
		def := ops[st.Op]
		switch {
		case i == 0 && def.kind != kSource:
			return nil, errAtStep(i, st, "a pipeline starts with a source (generator or file)")
		case i > 0 && def.kind == kSource:
			return nil, errAtStep(i, st, "only the first step can be a source")
		case def.kind == kKeyed && !keyed:
			return nil, errAtStep(i, st, "a keyed operator needs a keyBy step right before it")
		case def.kind == kKeyBy && keyed:
			return nil, errAtStep(i, st, "keyBy twice in a row")
		case def.kind == kKeyBy && i == len(s.Pipeline)-1:
			return nil, errAtStep(i, st, "keyBy must be followed by an operator")
		}
		st := st
		switch st.Op {
		case "generator":
			gen := builtin.Generator{Keys: st.int("keys"), Rate: st.float("rate"), Limit: st.int("limit"),
				KeyPrefix: st.str("keyPrefix"), TimeStep: st.dur("timeStep")}
			cur = g.Source(nameOr(st, "generator"), func() operator.Source { x := gen; return &x })
		case "file":
			path := st.str("path")
			// A named pipe or a device would block or never end: the
			// source reads regular files only (FileLines checks again).
			// Opened, not just stat'ed, so a file that exists but cannot
			// be read is refused here like a missing one (a spec sent to
			// ckpt serve must not tell the two apart).
			f, err := storage.OpenRegular(path, 0)
			if err != nil {
				return nil, errAtStep(i, st, "path %s: %v", path, errors.Unwrap(err))
			}
			f.Close()
			cur = g.Source(nameOr(st, "file"), func() operator.Source { return &builtin.FileLines{Path: path} })
		case "keyBy":
			cur = cur.KeyBy()
			keyed = true
			continue
		case "map":
			fn, err := builtin.MapFunc(st.str("fn"))
			if err != nil {
				return nil, errAtStep(i, st, "%v", err)
			}
			cur = cur.Map(nameOr(st, "map:"+st.str("fn")), fn)
		case "filter":
			prefix, contains, hasMin, minV := st.str("keyPrefix"), st.str("keyContains"), st.Params["minValue"] != nil, st.int("minValue")
			if prefix == "" && contains == "" && !hasMin {
				return nil, errAtStep(i, st, "give keyPrefix, keyContains or minValue")
			}
			cur = cur.Filter(nameOr(st, "filter"), func(r operator.Record) bool {
				return strings.HasPrefix(r.Key, prefix) && strings.Contains(r.Key, contains) && (!hasMin || r.Value >= minV)
			})
		case "split":
			cur = cur.FlatMap(nameOr(st, "split"), builtin.Split)
		case "fail":
			f := builtin.Fail{After: st.int("after"), Attempts: int(st.int("attempts")), Panic: st.str("panic") == "true"}
			if f.Attempts == 0 {
				f.Attempts = 1
			}
			cur = cur.Process(nameOr(st, "fail"), func() operator.Operator { x := f; return &x })
		case "count":
			cur = cur.Process(nameOr(st, "count"), func() operator.Operator { return &builtin.Count{} })
		case "sum":
			cur = cur.Process(nameOr(st, "sum"), func() operator.Operator { return &builtin.Sum{} })
		case "dedupe":
			cur = cur.Process(nameOr(st, "dedupe"), func() operator.Operator { return &builtin.Dedupe{} })
		case "window-count":
			size := st.dur("size")
			cur = cur.Process(nameOr(st, "window-count"), func() operator.Operator { return &builtin.WindowCount{Size: size} })
		case "file-sink":
			dir := st.str("path")
			cur = cur.Sink(nameOr(st, "file-sink"), func() operator.Operator { return &builtin.FileSink{Dir: dir} })
		case "stdout":
			prefix := st.str("prefix")
			cur = cur.Sink(nameOr(st, "stdout"), func() operator.Operator { return &builtin.Stdout{Prefix: prefix} })
		case "discard":
			cur = cur.Sink(nameOr(st, "discard"), func() operator.Operator { return builtin.Discard{} })
		}
		keyed = false
		if st.UID != "" {
			cur.UID(st.UID)
		}
		if st.Parallelism > 0 {
			cur.Parallelism(st.Parallelism)
		}
		if st.MaxParallelism > 0 {
			cur.MaxParallelism(st.MaxParallelism)
		} else if s.MaxParallelism > 0 {
			cur.MaxParallelism(s.MaxParallelism)
		}
		if def.kind == kSink && i != len(s.Pipeline)-1 {
			return nil, errAtStep(i, st, "a sink must be the last step")
		}
	}
	return g, nil
}

func nameOr(st Step, def string) string {
	if st.Name != "" {
		return st.Name
	}
	return def
}

// Configure layers configuration: the spec's config section, then cfg
// (e.g. a ckpt config file followed by -D flags) on top, and the spec's
// parallelism as parallelism.default unless set elsewhere.
func (s *Spec) Configure(over *config.Config) (*config.Config, error) {
	c := s.Config.Clone()
	if s.Parallelism > 0 && !c.IsSet(config.Parallelism) {
		if err := c.Set(config.Parallelism, strconv.Itoa(s.Parallelism), s.File+": parallelism"); err != nil {
			return nil, err
		}
	}
	if over != nil {
		for k, v := range over.Map() {
			origin := over.Origin(k)
			if origin == "" {
				origin = "override"
			}
			if err := c.Set(k, v, origin); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}
