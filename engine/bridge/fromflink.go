package bridge

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/runtime"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// Bringing a Flink savepoint of a runner job back to the engine.
//
// ckpt's runner for Flink (runner/) keeps the engine's state names and
// byte layouts, so what changes on the way back is where things live:
//
//   - keyed value states ("count", "sum", "seen" of Flink's Long, and
//     "windows" of byte[]) keep their bytes (Flink's LongSerializer writes
//     the 8 big-endian bytes the engine's state.Int64 does; byte[] values
//     are the engine's window pairs as they are); String keys become the
//     engine's keys (their UTF-8 bytes). Each entry moves to the key group
//     the ENGINE's hash gives its key (enginefmt.KeyGroupOf), not Flink's;
//   - Flink's timers are dropped: the engine's window-count rebuilds its
//     window timers from "windows" when it opens, so the timers are
//     redundant (an operator with timers but no "windows" is refused);
//   - the source's SourceReaderState splits (index, next, step) become the
//     engine's 16-byte "splits" (next, step); the enumerator's unassigned
//     splits (coordinator state) are dealt to the subtasks, so none is
//     lost;
//   - the exactly-once file sink's union "pending" keeps its bytes (the
//     runner writes the engine's JSON).
//
// Any other state is refused, naming its operator and state. The result is
// a ckpt canonical savepoint in a new directory: the engine restores it
// unchanged, at any parallelism (its key groups are the engine's).

// FromFlinkOptions tune FromFlink.
type FromFlinkOptions struct {
	// Graph, when set, is the job the savepoint is meant for (finalized):
	// the savepoint must pass the engine's restore check against it
	// (runtime.CheckRestore: the inspector's rules), and only its
	// operators are converted.
	Graph *graph.Graph
	// AllowNonRestored: state of operators Graph lacks is left out
	// (Flink's -n) instead of refused.
	AllowNonRestored bool
	// Log, when set, gets ConvertFromFlink's one line saying that it converts,
	// and where to, before anything is written.
	Log io.Writer
}

// FromFlinkResult is what FromFlink wrote.
type FromFlinkResult struct {
	// Dir is the new savepoint directory; Metadata its _metadata.
	Dir      string
	Metadata *snapshot.Metadata
	// Keys is how many keyed entries moved, per state name.
	Keys map[string]int64
	// Splits is how many source splits moved (unassigned ones included);
	// Unassigned how many of them the enumerator held.
	Splits, Unassigned int
	// Dropped are the operators left out (allow non-restored state).
	Dropped []runtime.UnmatchedOperator
}

// IsFlink reports whether the snapshot m holds state Flink wrote (its
// serialization proxies, or an operator coordinator's state, which the
// engine never writes) rather than ckpt's engine.
func IsFlink(ctx context.Context, fsys storage.FS, m *snapshot.Metadata) (bool, error) {
	for _, op := range m.Operators {
		if op.CoordinatorState != nil {
			return true, nil
		}
		engine, ok, err := fstate.WrittenByEngine(ctx, fsys, m, op)
		if err != nil {
			return false, fmt.Errorf("operator %s: %w", flinkOperatorLabel(op), err)
		}
		if ok {
			return !engine, nil
		}
	}
	return false, nil
}

// ConvertFromFlink loads the snapshot at src (a savepoint or checkpoint directory,
// or its _metadata) and, when Flink wrote it, converts it with FromFlink
// into dst ("": a new savepoint directory beside it, NewDir). It returns
// nil, nil for a snapshot of ckpt's engine (nothing to convert). `ckpt run
// -s` calls it; a `ckpt convert --to ckpt` is this with its own dst.
func ConvertFromFlink(ctx context.Context, fsys storage.FS, src, dst string, o FromFlinkOptions) (*FromFlinkResult, error) {
	m, err := checkpoint.LoadMetadata(ctx, fsys, src)
	if err != nil {
		return nil, err
	}
	flink, err := IsFlink(ctx, fsys, m)
	if err != nil || !flink {
		return nil, err
	}
	if dst == "" {
		if dst, err = NewDir(m.ExclusiveDir); err != nil {
			return nil, err
		}
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "%s is a Flink snapshot: converting it into a ckpt savepoint in %s\n", src, dst)
	}
	res, err := FromFlink(ctx, fsys, m, dst, o)
	if err != nil {
		return nil, fmt.Errorf("converting Flink snapshot %s: %w", src, err)
	}
	return res, nil
}

// NewDir names a new savepoint directory for the conversion of the
// snapshot in dir: beside it for a savepoint, beside its job's directory
// for a chk-N; named as Flink names savepoints, with the job's 6-hex
// prefix when the name tells it.
func NewDir(dir string) (string, error) {
	base, parent := storage.Base(dir), storage.Dir(dir)
	job, ok := snapshot.SavepointJobPrefix(base)
	if _, isChk := snapshot.ParseCheckpointDirName(base); isChk {
		job, parent = storage.Base(parent), storage.Dir(parent)
		ok = len(job) >= 6
	}
	if !ok {
		job = "c4c4c4" // no job id in sight
	}
	name, err := snapshot.NewSavepointDirName(job)
	if err != nil {
		name, err = snapshot.NewSavepointDirName("c4c4c4")
	}
	if err != nil {
		return "", err
	}
	return storage.Join(parent, name), nil
}

// FromFlink converts the Flink savepoint m (read through fsys) of a job
// that ran on ckpt's runner into a ckpt canonical savepoint written into
// dir, a directory that must not exist yet.
func FromFlink(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, dir string, o FromFlinkOptions) (*FromFlinkResult, error) {
	res := &FromFlinkResult{Dir: dir, Keys: map[string]int64{}}
	if o.Graph != nil {
		// The engine's restore rules (the inspector's), before any work.
		if err := runtime.CheckRestore(o.Graph, m, o.AllowNonRestored); err != nil {
			return nil, err
		}
		dropped, err := runtime.Unmatched(o.Graph, m)
		if err != nil {
			return nil, err
		}
		res.Dropped = dropped
	}
	if _, err := fsys.Stat(ctx, dir); err == nil {
		return nil, fmt.Errorf("%s exists: ckpt writes a converted savepoint only into a new directory", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	out := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: m.CheckpointID}
	var files []fileToWrite
	for _, op := range m.Operators {
		var v *graph.Vertex
		if o.Graph != nil {
			if v = o.Graph.ByID(op.ID); v == nil {
				continue // in res.Dropped if it has state
			}
		}
		nop := &snapshot.OperatorState{Name: op.Name, UID: op.UID, ID: op.ID, Parallelism: op.Parallelism,
			MaxParallelism: op.MaxParallelism, FullyFinished: op.FullyFinished}
		if v != nil {
			nop.Name, nop.UID = v.Name, v.UID
		}
		c := &fromFlinkConverter{ctx: ctx, fsys: fsys, m: m, op: op, res: res}
		subtasks, err := c.convert()
		if err != nil {
			return nil, fmt.Errorf("operator %s: %w", flinkOperatorLabel(op), err)
		}
		for i, st := range subtasks {
			if st.keyed == nil && st.opState == nil {
				continue
			}
			sub := &snapshot.SubtaskState{Index: int32(i)}
			if st.opState != nil {
				data, states := checkpoint.EncodeOperatorState(st.opState)
				name := checkpoint.ChecksummedName(data)
				var h snapshot.StreamHandle = &snapshot.ByteStreamHandle{Name: name, Data: data}
				if len(data) > inlineOperatorStateMax {
					files = append(files, fileToWrite{name: name, data: data})
					h = snapshot.NewRelativeFileHandle(name, int64(len(data)))
				}
				sub.ManagedOperatorState = snapshot.NewOperatorStreamHandle(h, states...)
			}
			if k := st.keyed; k != nil {
				name := checkpoint.NewHandleID() + enginefmt.CanonicalSuffix
				files = append(files, fileToWrite{name: name, data: k.data})
				sub.ManagedKeyedState = snapshot.NewSavepointKeyGroupsHandle(
					snapshot.KeyGroupRange{Start: int32(k.r.Start), Count: int32(k.r.Len())}, k.offsets,
					snapshot.NewRelativeFileHandle(name, int64(len(k.data))))
			}
			nop.Subtasks = append(nop.Subtasks, sub)
		}
		out.Operators = append(out.Operators, nop)
	}
	if err := out.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone)); err != nil {
		return nil, err
	}
	// The state files first, _metadata last: a directory without
	// _metadata is no savepoint.
	if err := fsys.MkdirAll(ctx, dir); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := storage.WriteFile(ctx, fsys, storage.Join(dir, f.name), f.data, storage.CreateOptions{}); err != nil {
			return nil, err
		}
	}
	if err := snapshot.Write(ctx, fsys, storage.Join(dir, checkpoint.MetadataName), out); err != nil {
		return nil, err
	}
	out.Location = storage.Join(dir, checkpoint.MetadataName)
	out.ExclusiveDir = dir
	res.Metadata = out
	return res, nil
}

// inlineOperatorStateMax: operator state up to this size lives inside _metadata, as the
// engine keeps it (a ByteStreamHandle named with its checksum).
const inlineOperatorStateMax = 20 << 10

type fileToWrite struct {
	name string
	data []byte
}

// fromFlinkConverter converts one operator's state.
type fromFlinkConverter struct {
	ctx  context.Context
	fsys storage.FS
	m    *snapshot.Metadata
	op   *snapshot.OperatorState
	res  *FromFlinkResult
}

type convertedSubtask struct {
	keyed   *convertedKeyed
	opState operator.State
}

type convertedKeyed struct {
	r       keygroup.Range
	offsets []int64
	data    []byte
}

func (c *fromFlinkConverter) convert() ([]convertedSubtask, error) {
	p := int(c.op.Parallelism)
	if p <= 0 {
		p = len(c.op.Subtasks)
	}
	out := make([]convertedSubtask, p)
	hasKeyed, hasOp := false, false
	for _, st := range c.op.Subtasks {
		if st.RawKeyedState != nil || st.RawOperatorState != nil {
			return nil, fmt.Errorf("subtask %d has raw (non-managed) state, which the engine has no counterpart for", st.Index)
		}
		if len(st.InputChannels) > 0 || len(st.OutputChannels) > 0 {
			return nil, fmt.Errorf("subtask %d has in-flight data of an unaligned checkpoint, which the engine has no counterpart for (take a savepoint: savepoints are aligned)", st.Index)
		}
		if int(st.Index) >= p {
			return nil, fmt.Errorf("subtask %d of an operator of parallelism %d", st.Index, p)
		}
		hasKeyed = hasKeyed || st.ManagedKeyedState != nil
		hasOp = hasOp || st.ManagedOperatorState != nil
	}
	if hasKeyed {
		if err := c.keyed(out); err != nil {
			return nil, err
		}
	}
	if hasOp {
		if err := c.operatorState(out); err != nil {
			return nil, err
		}
	}
	if c.op.CoordinatorState != nil {
		if err := c.coordinator(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// keyed re-keys the operator's keyed state by the engine's key groups and
// writes one canonical stream per subtask of the operator's parallelism.
func (c *fromFlinkConverter) keyed(out []convertedSubtask) error {
	proxy, _, err := fstate.ReadKeyedSchema(c.ctx, c.fsys, c.m, c.op)
	if err != nil {
		return err
	}
	if proxy == nil {
		return nil
	}
	if proxy.Key == nil || proxy.Key.Kind != fstate.KindString {
		return fmt.Errorf("keyed state with keys of %s: the engine's keys are Strings", flinkTypeName(proxy.Key))
	}
	keep := map[string]bool{}
	hasWindows := false
	for _, s := range proxy.States {
		if s.Type == fstate.PriorityQueue {
			continue // timers: below
		}
		want, ok := runnerKeyedStates[s.Name]
		if !ok {
			return fmt.Errorf("keyed state %q (%s): the engine has no counterpart for it", s.Name, s.Kind())
		}
		v := s.Serializers[fstate.RoleValue]
		if s.Kind() != "VALUE" || v == nil || v.Kind != want || s.TTL() {
			return fmt.Errorf("keyed state %q is %s of %s; the engine keeps it as VALUE of %s", s.Name, s.Kind(), flinkTypeName(v), want)
		}
		keep[s.Name] = true
		hasWindows = hasWindows || s.Name == windowsName
	}
	maxP := int(c.op.MaxParallelism)
	groups := map[int][]convertedEntry{}
	err = fstate.ReadKeyed(c.ctx, c.fsys, c.m, c.op, "", func(e fstate.Entry) error {
		if !keep[e.State] {
			// A timer. Every keyed process function has timer states; the
			// engine's only timers are window-count's, which it rebuilds
			// from "windows" when it opens: dropped. A timer of any other
			// operator would be lost: refused.
			if !hasWindows {
				return fmt.Errorf("timer state %q holds a timer of key %v, but the operator has no %q state: the engine's only timers are window-count's, rebuilt from %q", e.State, e.Key, windowsName, windowsName)
			}
			return nil
		}
		key, ok := e.Key.(string)
		if !ok {
			return fmt.Errorf("keyed state %q: key %v is not a String", e.State, e.Key)
		}
		var val []byte
		switch v := e.Value.(type) {
		case int64:
			val = binary.BigEndian.AppendUint64(nil, uint64(v))
		case []byte:
			if e.State == windowsName && len(v)%16 != 0 {
				return fmt.Errorf("keyed state %q of key %q: %d bytes, not (start, count) pairs of 16", e.State, key, len(v))
			}
			val = v
		case nil:
			return nil // no value
		default:
			return fmt.Errorf("keyed state %q of key %q: value %T", e.State, key, e.Value)
		}
		kg := enginefmt.KeyGroupOf(key, maxP)
		groups[kg] = append(groups[kg], convertedEntry{state: e.State, key: key, val: val})
		c.res.Keys[e.State]++
		return nil
	})
	if err != nil {
		return err
	}
	schemas := map[string][]byte{}
	for name := range keep {
		typ := enginefmt.TypeInt64
		if name == windowsName {
			typ = enginefmt.TypeWindowCounts
		}
		schemas[name] = enginefmt.Schema{Kind: enginefmt.KindValue, Key: enginefmt.TypeString, Value: typ}.Encode()
	}
	for i := range out {
		r := keygroup.RangeFor(maxP, len(out), i)
		out[i].keyed = engineCanonicalStream(r, schemas, groups)
	}
	return nil
}

type convertedEntry struct {
	state, key string
	val        []byte
}

// engineCanonicalStream lays out the key groups of r as the engine's canonical
// savepoint stream (snapshot/enginefmt, canonical.go): the schemas first,
// each key group's entries at its offset ended by a zero name length, the
// key groups' checksums after them.
func engineCanonicalStream(r keygroup.Range, schemas map[string][]byte, groups map[int][]convertedEntry) *convertedKeyed {
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	var b []byte
	ks := &convertedKeyed{r: r}
	var crcs []uint32
	for kg := r.Start; kg <= r.End; kg++ {
		start := len(b)
		ks.offsets = append(ks.offsets, int64(start))
		if kg == r.Start {
			for _, n := range names {
				b = enginefmt.AppendField(b, []byte(enginefmt.SchemaState))
				b = enginefmt.AppendField(b, []byte(n))
				b = enginefmt.AppendField(b, schemas[n])
			}
		}
		es := groups[kg]
		sort.Slice(es, func(i, j int) bool {
			if es[i].state != es[j].state {
				return es[i].state < es[j].state
			}
			return es[i].key < es[j].key
		})
		for _, e := range es {
			b = enginefmt.AppendField(b, []byte(e.state))
			b = enginefmt.AppendField(b, []byte(e.key))
			b = enginefmt.AppendField(b, e.val)
		}
		b = append(b, enginefmt.EndOfGroup)
		crcs = append(crcs, enginefmt.Checksum(b[start:]))
	}
	ks.data = enginefmt.AppendGroupSums(b, crcs, int64(len(b)))
	return ks
}

// operatorState converts the operator (list and union) states, subtask by
// subtask.
func (c *fromFlinkConverter) operatorState(out []convertedSubtask) error {
	return fstate.ReadOperators(c.ctx, c.fsys, c.m, c.op, func(e fstate.OperatorElement) error {
		if e.Subtask < 0 || e.Subtask >= len(out) {
			return fmt.Errorf("operator state of subtask %d of %d", e.Subtask, len(out))
		}
		st := &out[e.Subtask]
		if st.opState == nil {
			st.opState = operator.State{}
		}
		switch e.State {
		case fstate.SourceReaderState:
			sp, err := sourceReaderSplit(e.Value)
			if err != nil {
				return fmt.Errorf("operator state %q of subtask %d: %w", e.State, e.Subtask, err)
			}
			st.opState[splitsName] = append(st.opState[splitsName], sp)
			c.res.Splits++
		case pendingName:
			b, ok := e.Value.([]byte)
			if !ok || e.Mode != "UNION" {
				return fmt.Errorf("operator state %q is %s of %T; the engine's file sink keeps UNION of byte[]", e.State, e.Mode, e.Value)
			}
			name := enginePendingName
			st.opState[name] = append(st.opState[name], b)
		default:
			return fmt.Errorf("operator state %q (%s): the engine has no counterpart for it", e.State, e.Mode)
		}
		return nil
	})
}

// sourceReaderSplit turns a SourceReaderState element (the runner's SeqSplit in
// SimpleVersionedSerialization: version 1; int index, long next, long
// step) into the engine's split (next, step as 16 big-endian bytes).
func sourceReaderSplit(v fstate.Value) ([]byte, error) {
	s, ok := v.(fstate.SourceSplit)
	if !ok {
		return nil, fmt.Errorf("a split of %T, not one of ckpt's runner", v)
	}
	b, err := hex.DecodeString(s.Hex)
	if err != nil {
		return nil, err
	}
	return runnerSplit(s.SerializerVersion, b)
}

// coordinator reads the source's enumerator state (Flink's
// SourceCoordinator: int serde version 1, int enumerator serializer
// version, int length, the enumerator's bytes; the runner's enumerator:
// boolean created, int n, n × (int length, split)) and deals its
// unassigned splits to the subtasks, round-robin, so that none is lost.
func (c *fromFlinkConverter) coordinator(out []convertedSubtask) error {
	splits, created, err := runnerEnumeratorSplits(c.op.CoordinatorState.Data)
	if err != nil {
		return fmt.Errorf("coordinator state (the source's split enumerator): %w", err)
	}
	if !created {
		return fmt.Errorf("coordinator state: the source's enumerator had not yet made its splits (no reader had started); resume this savepoint on Flink, or start the job afresh")
	}
	for i, sp := range splits {
		st := &out[i%len(out)]
		if st.opState == nil {
			st.opState = operator.State{}
		}
		st.opState[splitsName] = append(st.opState[splitsName], sp)
	}
	c.res.Splits += len(splits)
	c.res.Unassigned += len(splits)
	return nil
}

func runnerEnumeratorSplits(b []byte) (splits [][]byte, created bool, err error) {
	r := &javaFields{b: b}
	if v := r.i32(); r.err == nil && v != 1 {
		return nil, false, fmt.Errorf("source coordinator serde version %d (ckpt reads 1)", v)
	}
	if v := r.i32(); r.err == nil && v != runnerEnumVersion {
		return nil, false, fmt.Errorf("enumerator state version %d, not ckpt's runner's (%d)", v, runnerEnumVersion)
	}
	n := r.i32()
	enum := r.bytes(int(n))
	if r.err == nil && len(r.b) != r.pos {
		r.err = fmt.Errorf("%d bytes after the enumerator state", len(r.b)-r.pos)
	}
	if r.err != nil {
		return nil, false, r.err
	}
	e := &javaFields{b: enum}
	created = e.bool()
	count := e.i32()
	for i := 0; e.err == nil && i < int(count); i++ {
		sb := e.bytes(int(e.i32()))
		if e.err != nil {
			break
		}
		sp, err := runnerSplit(runnerSplitVersion, sb)
		if err != nil {
			return nil, false, fmt.Errorf("unassigned split %d: %w", i, err)
		}
		splits = append(splits, sp)
	}
	if e.err == nil && e.pos != len(e.b) {
		e.err = fmt.Errorf("%d bytes after the runner's enumerator state", len(e.b)-e.pos)
	}
	if e.err != nil {
		return nil, false, fmt.Errorf("the runner's enumerator state: %w", e.err)
	}
	return splits, created, nil
}

// javaFields reads Java DataOutput fields; the first error sticks.
type javaFields struct {
	b   []byte
	pos int
	err error
}

func (r *javaFields) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.pos < n {
		r.err = fmt.Errorf("%s at byte %d runs past the end (%d bytes)", what, r.pos, len(r.b))
		return nil
	}
	v := r.b[r.pos : r.pos+n]
	r.pos += n
	return v
}

func (r *javaFields) i32() int32 {
	b := r.take(4, "int")
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func (r *javaFields) bool() bool {
	b := r.take(1, "boolean")
	return b != nil && b[0] != 0
}

func (r *javaFields) bytes(n int) []byte { return r.take(n, fmt.Sprintf("%d bytes", n)) }

func flinkTypeName(t *fstate.Type) string {
	if t == nil {
		return "no serializer"
	}
	return string(t.Kind)
}

func flinkOperatorLabel(op *snapshot.OperatorState) string {
	if op.UID != "" {
		return fmt.Sprintf("%s (uid %q)", op.ID, op.UID)
	}
	return op.ID.String()
}
