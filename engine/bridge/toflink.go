package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// ToFlinkOptions say what the savepoint is of and what to write.
type ToFlinkOptions struct {
	// Spec is the job spec the savepoint is of. With it every operator of
	// the savepoint must be one of the spec's (by operator ID) and its
	// state the state that operator keeps; window-count needs it (the
	// window size sets the timers Flink fires the restored windows by).
	// Without it, each operator's kind is told by its state names.
	Spec *spec.Spec
	// AllowNonRestored leaves out (instead of refusing) the state of an
	// operator that is not the spec's, as -n/--allowNonRestoredState lets
	// Flink drop it; Dropped in the result names it.
	AllowNonRestored bool
	// Version is the _metadata format version to write (snapshot.Version4
	// for Flink 1.16–1.20, 5 for 2.0, 6 for 2.1+); 0 means
	// snapshot.VersionWrite.
	Version int
}

// ConvertedOperator is what ToFlink wrote for one operator.
type ConvertedOperator struct {
	ID             string   `json:"id"`
	UID            string   `json:"uid,omitempty"`
	Kind           string   `json:"kind"`
	Parallelism    int      `json:"parallelism"`
	MaxParallelism int      `json:"max_parallelism"`
	States         []string `json:"states,omitempty"`
	// Keys and Timers count the keyed entries written; Elements the
	// operator state elements.
	Keys     int `json:"keys,omitempty"`
	Timers   int `json:"timers,omitempty"`
	Elements int `json:"elements,omitempty"`
}

// ToFlinkResult is the savepoint ToFlink wrote.
type ToFlinkResult struct {
	Source    string              `json:"source"`
	Dir       string              `json:"dir"`
	Version   int                 `json:"version"`
	Operators []ConvertedOperator `json:"operators"`
	Files     int                 `json:"files"`
	Bytes     int64               `json:"bytes"`
	NotKept   []string            `json:"not_kept,omitempty"`
	Dropped   []string            `json:"dropped,omitempty"`
}

// ErrNotEngine is returned for a snapshot whose state is not ckpt's
// engine's (a Flink snapshot needs no conversion to Flink).
var ErrNotEngine = errors.New("not a snapshot of ckpt's engine")

// IsEngineSnapshot reports whether m holds state written by ckpt's engine
// (keyed state in the engine's format, or operator state in its framing).
func IsEngineSnapshot(ctx context.Context, fsys storage.FS, m *snapshot.Metadata) bool {
	for _, op := range m.Operators {
		if _, format, err := state.ReadKeyedSchema(ctx, fsys, m, op); err == nil && format != "" {
			return state.IsEngineFormat(format)
		}
	}
	for _, op := range m.Operators {
		engine, flink := false, false
		_ = state.ReadOperators(ctx, fsys, m, op, func(e state.OperatorElement) error {
			if isEngineElement(e) {
				engine = true
			} else {
				flink = true
			}
			return errStop
		})
		if engine || flink {
			return engine
		}
	}
	return false
}

var errStop = errors.New("stop")

const engineOperatorBytes = "ckpt engine operator bytes"

func isEngineElement(e state.OperatorElement) bool {
	r, ok := e.Value.(state.Raw)
	return ok && r.Serializer == engineOperatorBytes
}

// opKind is what an operator of the runner keeps.
type opKind struct {
	op         string        // the spec's op (or what the state names tell)
	windowSize time.Duration // window-count
	uid        string
}

// ToFlink converts the engine savepoint (or retained checkpoint) at src —
// a directory or its _metadata — into a new Flink canonical savepoint in
// dst, which must not exist. The operators keep their IDs, parallelism and
// max parallelism; keyed state is regrouped by Flink's key groups into the
// same number of subtasks; the sources' splits become the runner's reader
// state and its enumerator's state (all splits assigned). State the runner
// has no counterpart for is refused, naming the operator and the state.
func ToFlink(ctx context.Context, fsys storage.FS, src, dst string, o ToFlinkOptions) (res *ToFlinkResult, err error) {
	version := o.Version
	if version == 0 {
		version = snapshot.VersionWrite
	}
	if version < snapshot.Version4 || version > snapshot.Version6 {
		return nil, fmt.Errorf("convert to Flink: _metadata V%d: ckpt writes V4 (Flink 1.16–1.20), V5 (2.0) or V6 (2.1+)", version)
	}
	m, err := snapshot.Read(ctx, fsys, src)
	if err != nil {
		return nil, err
	}
	if strings.TrimRight(dst, "/") == strings.TrimRight(m.ExclusiveDir, "/") {
		return nil, fmt.Errorf("convert to Flink: the destination %s is the snapshot's own directory", dst)
	}
	if !IsEngineSnapshot(ctx, fsys, m) {
		return nil, fmt.Errorf("convert to Flink: %s: %w (its state is in Flink's format already: resume it as it is)", src, ErrNotEngine)
	}
	kinds, err := operatorKinds(m, o.Spec, o.AllowNonRestored)
	if err != nil {
		return nil, err
	}
	// Everything is read and encoded before anything is written.
	type file struct {
		name string
		data []byte
	}
	var files []file
	newFile := func(data []byte) (*snapshot.RelativeFileHandle, error) {
		var r [16]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		name := hex.EncodeToString(r[:])
		files = append(files, file{name, data})
		return snapshot.NewRelativeFileHandle(name, int64(len(data))), nil
	}
	out := &snapshot.Metadata{Version: snapshot.Version6, CheckpointID: m.CheckpointID}
	if err := out.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone)); err != nil {
		return nil, err
	}
	res = &ToFlinkResult{Source: m.Location, Dir: dst}
	for _, op := range m.Operators {
		k := kinds[op.ID]
		if k.op == "dropped" {
			res.Dropped = append(res.Dropped, operatorLabel(op, k))
			continue
		}
		if k.op == "by-state" {
			if k.op, err = kindByState(ctx, fsys, m, op); err != nil {
				return nil, err
			}
		}
		conv := ConvertedOperator{ID: op.ID.String(), UID: op.UID, Kind: k.op, Parallelism: int(op.Parallelism), MaxParallelism: int(op.MaxParallelism)}
		if conv.UID == "" {
			conv.UID = k.uid
		}
		fo := &snapshot.OperatorState{Name: op.Name, UID: op.UID, ID: op.ID, Parallelism: op.Parallelism,
			MaxParallelism: op.MaxParallelism, FullyFinished: op.FullyFinished}
		subtasks := make([]*snapshot.SubtaskState, op.Parallelism)
		for i := range subtasks {
			subtasks[i] = &snapshot.SubtaskState{Index: int32(i)}
		}
		for _, st := range op.Subtasks {
			if st != nil && st.Finished && int(st.Index) < len(subtasks) {
				subtasks[st.Index].Finished = true
			}
		}
		label := operatorLabel(op, k)
		switch k.op {
		case "generator", "file", "source":
			lists, enum, n, err := sourceState(ctx, fsys, m, op, label)
			if err != nil {
				return nil, err
			}
			for i, l := range lists {
				data, named, err := state.EncodeOperatorStream([]state.OperatorList{{Name: state.SourceReaderState, Mode: snapshot.SplitDistribute, Elements: l}})
				if err != nil {
					return nil, fmt.Errorf("%s: %w", label, err)
				}
				h, err := newFile(data)
				if err != nil {
					return nil, err
				}
				subtasks[i].ManagedOperatorState = snapshot.NewOperatorStreamHandle(h, named...)
			}
			if !op.FullyFinished {
				fo.CoordinatorState = &snapshot.ByteStreamHandle{Name: op.ID.String(), Data: enum}
			}
			conv.States, conv.Elements = []string{state.SourceReaderState + " (reader splits)", "coordinator (enumerator)"}, n
		case "file-sink":
			lists, n, err := pendingState(ctx, fsys, m, op, label)
			if err != nil {
				return nil, err
			}
			for i, l := range lists {
				data, named, err := state.EncodeOperatorStream([]state.OperatorList{{Name: pendingName, Mode: snapshot.Union, Elements: l}})
				if err != nil {
					return nil, fmt.Errorf("%s: %w", label, err)
				}
				h, err := newFile(data)
				if err != nil {
					return nil, err
				}
				subtasks[i].ManagedOperatorState = snapshot.NewOperatorStreamHandle(h, named...)
			}
			conv.States, conv.Elements = []string{pendingName + " (union)"}, n
		case "count", "sum", "dedupe", "window-count", "keyed":
			if err := refuseOperatorState(ctx, fsys, m, op, label); err != nil {
				return nil, err
			}
			streams, st, err := keyedState(ctx, fsys, m, op, k, label)
			if err != nil {
				return nil, err
			}
			for i, data := range streams.data {
				h, err := newFile(data)
				if err != nil {
					return nil, err
				}
				subtasks[i].ManagedKeyedState = snapshot.NewSavepointKeyGroupsHandle(streams.ranges[i], streams.offsets[i], h)
			}
			conv.States, conv.Keys, conv.Timers = st.states, st.keys, st.timers
		default:
			if err := refuseAnyState(ctx, fsys, m, op, label); err != nil {
				return nil, err
			}
		}
		if !op.FullyFinished {
			fo.Subtasks = subtasks
		}
		out.Operators = append(out.Operators, fo)
		res.Operators = append(res.Operators, conv)
	}
	c, err := out.ConvertTo(version)
	if err != nil {
		return nil, err
	}
	res.Version, res.NotKept = version, c.NotKept

	// Write: a new directory, the state files, then _metadata last (a
	// directory without it is no snapshot). On failure exactly what was
	// written goes again.
	if _, err := fsys.Lstat(ctx, dst); err == nil {
		return nil, fmt.Errorf("convert to Flink: %s exists; give a new directory", dst)
	} else if !storage.IsNotExist(err) {
		return nil, err
	}
	if err := fsys.MkdirAll(ctx, dst); err != nil {
		return nil, err
	}
	var written []string
	defer func() {
		if err == nil {
			return
		}
		cctx := context.WithoutCancel(ctx)
		for _, w := range written {
			_ = fsys.Remove(cctx, w)
		}
		_ = fsys.Remove(cctx, dst) // only if empty: never recursive
	}()
	for _, f := range files {
		uri := storage.Join(dst, f.name)
		w, err := fsys.Create(ctx, uri, storage.CreateOptions{Sync: true})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			w.Abort()
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		written = append(written, uri)
		res.Files++
		res.Bytes += int64(len(f.data))
	}
	mu := storage.Join(dst, snapshot.MetadataFileName)
	written = append(written, mu) // Write is atomic: nothing there unless it succeeded
	if err := snapshot.Write(ctx, fsys, mu, out); err != nil {
		return nil, err
	}
	return res, nil
}

func operatorLabel(op *snapshot.OperatorState, k opKind) string {
	uid := op.UID
	if uid == "" {
		uid = k.uid
	}
	if uid != "" {
		return fmt.Sprintf("operator %s (uid %q)", op.ID, uid)
	}
	return "operator " + op.ID.String()
}

// operatorKinds tells what each operator of m is: the spec's step with its
// operator ID, or (without a spec) what its state names say.
func operatorKinds(m *snapshot.Metadata, sp *spec.Spec, allowNonRestored bool) (map[snapshot.OperatorID]opKind, error) {
	out := map[snapshot.OperatorID]opKind{}
	if sp != nil {
		_, g, err := sp.Prepare(nil, nil)
		if err != nil {
			return nil, err
		}
		var steps []spec.Step
		for _, st := range sp.Pipeline {
			if st.Op != "keyBy" {
				steps = append(steps, st)
			}
		}
		if len(steps) != len(g.Vertices) {
			return nil, fmt.Errorf("job spec %s: %d steps make %d operators", sp.File, len(steps), len(g.Vertices))
		}
		byID := map[snapshot.OperatorID]opKind{}
		for i, v := range g.Vertices {
			k := opKind{op: steps[i].Op, uid: v.UID}
			if k.op == "window-count" {
				k.windowSize = stepDuration(steps[i], "size")
			}
			byID[v.ID] = k
		}
		for _, op := range m.Operators {
			k, ok := byID[op.ID]
			if !ok {
				if hasState(op) && allowNonRestored {
					out[op.ID] = opKind{op: "dropped"}
					continue
				}
				if hasState(op) {
					return nil, fmt.Errorf("%s holds state but is no operator of job spec %s (different uids?): the runner has no operator to restore it into", operatorLabel(op, opKind{}), sp.File)
				}
				k = opKind{op: "stateless"}
			}
			out[op.ID] = k
		}
		return out, nil
	}
	for _, op := range m.Operators {
		out[op.ID] = opKind{op: "by-state"}
	}
	return out, nil
}

// kindByState is what an operator is by its state names: a source keeps
// its splits, the file sink its pending files, the keyed operators keyed
// state.
func kindByState(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState) (string, error) {
	els, err := elements(ctx, fsys, m, op, operatorLabel(op, opKind{}))
	if err != nil {
		return "", err
	}
	switch {
	case els[splitsName] != nil || els[offsetName] != nil:
		return "source", nil
	case els[enginePendingName] != nil:
		return "file-sink", nil
	}
	for _, st := range op.Subtasks {
		if st != nil && st.ManagedKeyedState != nil {
			return "keyed", nil
		}
	}
	return "stateless", nil
}

func stepDuration(st spec.Step, k string) time.Duration {
	n := st.Params[k]
	if n == nil {
		return 0
	}
	d, err := config.ParseDuration(n.Value)
	if err != nil {
		return 0
	}
	return d
}

func hasState(op *snapshot.OperatorState) bool {
	if op.CoordinatorState != nil {
		return true
	}
	for _, st := range op.Subtasks {
		if st != nil && st.HasState() {
			return true
		}
	}
	return false
}

// elements reads operator op's operator state elements: name → subtask →
// elements. A state that is not the engine's is refused.
func elements(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, label string) (map[string]map[int][][]byte, error) {
	out := map[string]map[int][][]byte{}
	err := state.ReadOperators(ctx, fsys, m, op, func(e state.OperatorElement) error {
		if !isEngineElement(e) {
			return fmt.Errorf("%s: operator state %q is not the engine's (%T)", label, e.State, e.Value)
		}
		b, err := hex.DecodeString(e.Value.(state.Raw).Hex)
		if err != nil {
			return err
		}
		if out[e.State] == nil {
			out[e.State] = map[int][][]byte{}
		}
		out[e.State][e.Subtask] = append(out[e.State][e.Subtask], b)
		return nil
	})
	return out, err
}

// sourceState is the runner's reader state (per subtask, SourceReaderState
// elements: each a split in SimpleVersionedSerialization framing) and its
// enumerator's coordinator state (created, nothing unassigned) for the
// engine's splits.
func sourceState(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, label string) ([][][]byte, []byte, int, error) {
	els, err := elements(ctx, fsys, m, op, label)
	if err != nil {
		return nil, nil, 0, err
	}
	lists := make([][][]byte, op.Parallelism)
	n := 0
	for name, bySub := range els {
		for sub, es := range bySub {
			if sub < 0 || sub >= len(lists) {
				return nil, nil, 0, fmt.Errorf("%s: subtask %d of parallelism %d", label, sub, op.Parallelism)
			}
			for _, e := range es {
				var next, step int64
				switch {
				case name == splitsName && len(e) == 16:
					next, step = int64(binary.BigEndian.Uint64(e)), int64(binary.BigEndian.Uint64(e[8:]))
				case name == offsetName && len(e) == 8:
					next, step = int64(binary.BigEndian.Uint64(e)), int64(op.Parallelism)
				case name == splitsName || name == offsetName:
					return nil, nil, 0, fmt.Errorf("%s: corrupt source state %q (%d bytes)", label, name, len(e))
				default:
					return nil, nil, 0, fmt.Errorf("%s: operator state %q has no counterpart in the runner's source (it keeps %q)", label, name, splitsName)
				}
				if step <= 0 || next < 0 {
					return nil, nil, 0, fmt.Errorf("%s: source split (next %d, step %d) is not a sequence", label, next, step)
				}
				lists[sub] = append(lists[sub], state.AppendSimpleVersioned(nil, runnerSplitVersion, appendRunnerSplit(nil, next, step)))
				n++
			}
		}
	}
	// EnumState: created = true, no unassigned split (every split is in a
	// reader's state).
	enum := []byte{1, 0, 0, 0, 0}
	return lists, state.SourceCoordinatorState(runnerEnumVersion, enum), n, nil
}

// pendingState is the file sink's union list "pending" per subtask.
func pendingState(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, label string) ([][][]byte, int, error) {
	els, err := elements(ctx, fsys, m, op, label)
	if err != nil {
		return nil, 0, err
	}
	lists := make([][][]byte, op.Parallelism)
	n := 0
	for name, bySub := range els {
		if name != enginePendingName {
			return nil, 0, fmt.Errorf("%s: operator state %q has no counterpart in the runner's file sink (it keeps %q)", label, name, enginePendingName)
		}
		for sub, es := range bySub {
			if sub < 0 || sub >= len(lists) {
				return nil, 0, fmt.Errorf("%s: subtask %d of parallelism %d", label, sub, op.Parallelism)
			}
			lists[sub] = append(lists[sub], es...)
			n += len(es)
		}
	}
	return lists, n, nil
}

func refuseOperatorState(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, label string) error {
	els, err := elements(ctx, fsys, m, op, label)
	if err != nil {
		return err
	}
	for name := range els {
		return fmt.Errorf("%s: operator state %q has no counterpart in the runner", label, name)
	}
	return nil
}

// refuseAnyState refuses an operator the runner keeps no state in that
// holds some.
func refuseAnyState(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, label string) error {
	if err := refuseOperatorState(ctx, fsys, m, op, label); err != nil {
		return err
	}
	var name string
	err := state.ReadKeyed(ctx, fsys, m, op, "", func(e state.Entry) error {
		name = e.State
		return errStop
	})
	if name != "" {
		return fmt.Errorf("%s: keyed state %q has no counterpart in the runner", label, name)
	}
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if op.CoordinatorState != nil {
		return fmt.Errorf("%s: coordinator state has no counterpart in the runner", label)
	}
	return nil
}

type keyedStreams struct {
	data    [][]byte
	offsets [][]int64
	ranges  []snapshot.KeyGroupRange
}

type keyedStats struct {
	states       []string
	keys, timers int
}

// keyedState reads op's keyed state (the engine's key groups) and encodes
// it as the runner's, one stream per subtask of op's parallelism, each key
// in the key group Flink gives it.
func keyedState(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, k opKind, label string) (*keyedStreams, *keyedStats, error) {
	maxP, p := int(op.MaxParallelism), int(op.Parallelism)
	if maxP <= 0 || p <= 0 || p > maxP {
		return nil, nil, fmt.Errorf("%s: parallelism %d, max parallelism %d", label, p, maxP)
	}
	want := ""
	switch k.op {
	case "window-count":
		want = windowsName
		if k.windowSize <= 0 {
			return nil, nil, fmt.Errorf("%s: window-count state needs the window size: give the job spec", label)
		}
	case "keyed":
	default:
		want = valueStates[k.op]
	}
	type entry struct {
		key   string
		value []byte
	}
	var values []entry
	var windows []entry
	valueName := ""
	err := state.ReadKeyed(ctx, fsys, m, op, "", func(e state.Entry) error {
		key, ok := e.Key.(string)
		if !ok {
			return fmt.Errorf("%s: keyed state %q has a key of type %T, not a string", label, e.State, e.Key)
		}
		name := e.State
		if want != "" && name != want {
			return fmt.Errorf("%s: keyed state %q has no counterpart in the runner's %s (it keeps %q)", label, name, k.op, want)
		}
		switch {
		case name == windowsName:
			b, err := windowBytes(e.Value)
			if err != nil {
				return fmt.Errorf("%s: keyed state %q of key %q: %w", label, name, key, err)
			}
			windows = append(windows, entry{key, b})
		case name == "count" || name == "sum" || name == "seen":
			if valueName != "" && valueName != name {
				return fmt.Errorf("%s: keyed states %q and %q: the runner's operators keep one", label, valueName, name)
			}
			valueName = name
			v, err := longValue(e.Value)
			if err != nil {
				return fmt.Errorf("%s: keyed state %q of key %q: %w", label, name, key, err)
			}
			values = append(values, entry{key, state.AppendLongValue(nil, v)})
		default:
			return fmt.Errorf("%s: keyed state %q has no counterpart in the runner", label, name)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(values) > 0 && len(windows) > 0 {
		return nil, nil, fmt.Errorf("%s: keyed states %q and %q: the runner's operators keep one", label, valueName, windowsName)
	}
	stats := &keyedStats{}
	var first *state.Meta
	var firstEntries []entry
	switch {
	case len(windows) > 0 || k.op == "window-count":
		if k.windowSize <= 0 {
			return nil, nil, fmt.Errorf("%s: keyed state %q (window-count) needs the window size: give the job spec", label, windowsName)
		}
		first, firstEntries = state.NewValueStateMeta(windowsName, state.BytesType()), windows
	default:
		if valueName == "" {
			valueName = want
		}
		if valueName == "" {
			return &keyedStreams{}, &keyedStats{}, nil // no keyed state at all
		}
		first, firstEntries = state.NewValueStateMeta(valueName, state.LongType()), values
	}
	metas := []*state.Meta{first, state.NewTimersMeta(processingTimersName, state.StringType()), state.NewTimersMeta(eventTimersName, state.StringType())}
	stats.states = []string{first.Name}
	groups := map[int][][]state.KV{}
	add := func(kg, id int, kv state.KV) {
		if groups[kg] == nil {
			groups[kg] = make([][]state.KV, len(metas))
		}
		groups[kg][id] = append(groups[kg][id], kv)
	}
	size := k.windowSize.Milliseconds()
	for _, e := range firstEntries {
		kg, err := state.KeyGroup(e.key, maxP)
		if err != nil {
			return nil, nil, err
		}
		ck := state.AppendStringKeyVoidNamespace(nil, kg, maxP, e.key)
		add(kg, 0, state.KV{Key: ck, Value: e.value})
		stats.keys++
		if first.Name != windowsName {
			continue
		}
		seen := map[int64]bool{}
		for i := 0; i+16 <= len(e.value)-4; i += 16 {
			start := int64(binary.BigEndian.Uint64(e.value[4+i:]))
			ts := start + size - 1
			if seen[ts] {
				continue
			}
			seen[ts] = true
			add(kg, 2, state.KV{Key: state.AppendStringTimer(nil, kg, maxP, ts, e.key)})
			stats.timers++
		}
	}
	if stats.timers > 0 {
		stats.states = append(stats.states, eventTimersName)
	}
	// Keys in byte order within a state, as RocksDB writes them: the same
	// bytes for the same state, whatever order the engine gave them.
	for _, g := range groups {
		for _, kvs := range g {
			sort.Slice(kvs, func(i, j int) bool { return bytes.Compare(kvs[i].Key, kvs[j].Key) < 0 })
		}
	}
	streams := &keyedStreams{}
	for i := range p {
		r := snapshot.KeyGroupRangeFor(int32(maxP), int32(p), int32(i))
		sub := map[int][][]state.KV{}
		for kg, g := range groups {
			if keygroup.OperatorIndex(maxP, p, kg) == i {
				sub[kg] = g
			}
		}
		data, offsets, err := state.EncodeKeyedStream(state.StringType(), metas, r, sub)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", label, err)
		}
		streams.data = append(streams.data, data)
		streams.offsets = append(streams.offsets, offsets)
		streams.ranges = append(streams.ranges, r)
	}
	return streams, stats, nil
}

// longValue is an engine Long state value (decoded, or raw when the
// snapshot predates the engine's schemas).
func longValue(v state.Value) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case state.Raw:
		b, err := hex.DecodeString(v.Hex)
		if err != nil || len(b) != 8 {
			return 0, fmt.Errorf("a %d-byte value, not an 8-byte Long", len(b))
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("a %T value, not a Long", v)
}

// windowBytes is the runner's "windows" value of the engine's windows: the
// 16-byte (start, count) pairs as a byte[] (BytePrimitiveArraySerializer).
func windowBytes(v state.Value) ([]byte, error) {
	var raw []byte
	switch v := v.(type) {
	case []state.EngineWindow:
		for _, w := range v {
			raw = binary.BigEndian.AppendUint64(raw, uint64(w.Start))
			raw = binary.BigEndian.AppendUint64(raw, uint64(w.Count))
		}
	case state.Raw:
		b, err := hex.DecodeString(v.Hex)
		if err != nil || len(b)%16 != 0 {
			return nil, fmt.Errorf("%d bytes, not (start, count) pairs", len(b))
		}
		raw = b
	default:
		return nil, fmt.Errorf("a %T value, not windows", v)
	}
	return state.AppendBytesValue(nil, raw), nil
}

// ForFlink is the snapshot at path made ready for a job on Flink
// flinkVersion: nil when it is not the engine's (or cannot be read from
// here: the cluster decides then), else converted by ToFlink into a new
// directory beside it, named after it ("<name>-flink", "-flink-2", … the
// first that does not exist), in the _metadata version that Flink reads.
// ckpt submit -s and the TUI's launch on a Flink target both use it.
func ForFlink(ctx context.Context, fsys storage.FS, path, flinkVersion string, o ToFlinkOptions) (*ToFlinkResult, error) {
	m, err := snapshot.Read(ctx, fsys, path)
	if err != nil || !IsEngineSnapshot(ctx, fsys, m) {
		return nil, nil
	}
	version, err := snapshot.VersionForFlink(flinkVersion)
	if err != nil {
		return nil, fmt.Errorf("-s %s is a savepoint of ckpt's engine; converting it for Flink %s: %w", path, flinkVersion, err)
	}
	o.Version = version
	base := strings.TrimRight(path, "/")
	if storage.Base(base) == "_metadata" {
		base = storage.Dir(base)
	}
	for i := 1; i < 100; i++ {
		dst := base + "-flink"
		if i > 1 {
			dst = fmt.Sprintf("%s-flink-%d", base, i)
		}
		if _, err := fsys.Lstat(ctx, dst); err == nil {
			continue
		} else if !storage.IsNotExist(err) {
			return nil, err
		}
		res, err := ToFlink(ctx, fsys, path, dst, o)
		if err != nil {
			return nil, fmt.Errorf("-s %s is a savepoint of ckpt's engine; converting it for Flink %s: %w", path, flinkVersion, err)
		}
		return res, nil
	}
	return nil, fmt.Errorf("-s %s is a savepoint of ckpt's engine; converting it for Flink %s: %s-flink … -flink-99 all exist", path, flinkVersion, base)
}
