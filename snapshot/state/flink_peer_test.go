package state

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// The proof against real Flink: the peer's StateJob replays records this
// test chooses at random, and every snapshot kind the peer takes of it —
// canonical and native savepoints, a retained full checkpoint, and with
// RocksDB an incremental one too; hashmap (key-group streams) and RocksDB
// (SST files but for the canonical savepoint); Flink 2.x and 1.20 — reads
// back, entry by entry, as exactly the state those records make, with the
// schema (kinds, types, TTL) the job declared: Long, String, Tuple, Row,
// POJO, TTL-wrapped values, every keyed state kind, user timers, a window
// operator's contents and timers (TimeWindow namespace), operator list,
// union and broadcast state, a Kryo-serialized class (its class and raw
// bytes) and an Avro GenericRecord (its bytes, exactly as Flink's encoder
// writes them) — both refused where the heap format leaves their length
// unknown — and a Kafka-like FLIP-27 source's split state, named as
// KafkaSource's topic, partition and offsets.
func TestStateReaderAgainstFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CKPT_STATE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("records from seed %d (CKPT_STATE_SEED=%d reproduces them)", seed, seed)
	recs := randomRecords(rand.New(rand.NewPCG(seed, 1)), 300)
	input := filepath.Join(t.TempDir(), "input.tsv")
	if err := os.WriteFile(input, recordsTSV(recs), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := peers.StateJobSpec{Input: input, OpList: []string{"split-a", "split-b", "ß-split"}, OpUnion: []string{"union-x", "union-y"}}
	want := expectedState(recs, spec, 2)

	for _, version := range peers.FlinkVersions {
		t.Run("flink-"+version, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: version})
			for _, c := range []struct {
				name, backend string
				maxPar        int
				compressed    bool // execution.checkpointing.snapshot-compression
			}{{"hashmap", "hashmap", 0, false}, {"hashmap-compressed", "hashmap", 0, true}, {"rocksdb", "rocksdb", 200, false}} {
				t.Run(c.name, func(t *testing.T) {
					s := spec
					s.Done = filepath.Join(t.TempDir(), "done")
					started := time.Now().Add(-time.Second)
					run, err := p.SubmitStateJob(peers.FlinkJob{Name: "state-job-" + c.name, Backend: c.backend,
						Parallelism: 2, MaxParallelism: c.maxPar, Incremental: c.backend == "rocksdb", CheckpointInterval: time.Hour,
						Config: map[string]string{"execution.checkpointing.snapshot-compression": fmt.Sprint(c.compressed)}}, s)
					if err != nil {
						t.Fatal(err)
					}
					defer run.Cancel()
					ttlWindow := [2]time.Time{started, time.Now()}
					var last string
					for _, kind := range []string{"canonical-savepoint", "native-savepoint", "full-checkpoint", "incremental-checkpoint"} {
						if kind == "incremental-checkpoint" && c.backend != "rocksdb" {
							continue
						}
						// Each snapshot is read before the next is taken: a
						// completed checkpoint subsumes the one before.
						var path string
						switch kind {
						case "canonical-savepoint", "native-savepoint":
							format := peers.SavepointCanonical
							if kind == "native-savepoint" {
								format = peers.SavepointNative
							}
							var sp string
							err := untilAllRunning(func() (err error) { sp, err = run.TriggerSavepoint("", format); return err })
							if err != nil {
								t.Fatalf("%s: %v", kind, err)
							}
							path = peers.LocalPath(sp)
						default:
							var id int64
							err := untilAllRunning(func() (err error) { id, err = run.TriggerCheckpoint(kind == "full-checkpoint"); return err })
							if err != nil {
								t.Fatalf("%s: %v", kind, err)
							}
							path = filepath.Join(run.CheckpointsDir(), fmt.Sprintf("chk-%d", id))
						}
						ttlWindow[1] = time.Now()
						t.Run(kind, func(t *testing.T) { compareSnapshot(t, path, want, ttlWindow) })
						last = path
					}
					if c.backend != "rocksdb" {
						return
					}
					// Rescaled: resumed from the incremental checkpoint at
					// parallelism 3, Flink clips each subtask's RocksDB to its
					// key groups; its next checkpoint holds the same state.
					t.Run("rescaled-checkpoint", func(t *testing.T) {
						if err := run.Cancel(); err != nil {
							t.Fatal(err)
						}
						s.Restore = last
						run3, err := p.SubmitStateJob(peers.FlinkJob{Name: "state-job-rescaled", Backend: c.backend,
							Parallelism: 3, MaxParallelism: c.maxPar, Incremental: true, CheckpointInterval: time.Hour}, s)
						if err != nil {
							t.Fatal(err)
						}
						defer run3.Cancel()
						id, err := run3.TriggerCheckpoint(false)
						if err != nil {
							t.Fatal(err)
						}
						compareSnapshot(t, filepath.Join(run3.CheckpointsDir(), fmt.Sprintf("chk-%d", id)), expectedState(recs, spec, 3), ttlWindow)
					})
				})
			}
		})
	}
}

// untilAllRunning retries a snapshot Flink refuses because a task is
// still starting (the done file proves the main chain ran, not that the
// side operators finished deploying).
func untilAllRunning(f func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil || !strings.Contains(err.Error(), "Not all required tasks are currently running") || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stateRecord is one input record of StateJob (see its Javadoc).
type stateRecord struct {
	longKey   int64
	stringKey string
	value     int64
	str       string
	dbl       float64
	boolean   bool
	bcastKey  string // "" = none
	index     int    // its line in the input
}

func randomRecords(r *rand.Rand, n int) []stateRecord {
	strs := []string{"a", "hello", "aé€😀", "ключ", "tab-free words", strings.Repeat("long-", 40), "x,y", "Ω"}
	skeys := []string{"k1", "k2", "größe", "😀-key", "z"}
	bkeys := []string{"alpha", "beta", "gamma"}
	out := make([]stateRecord, n)
	for i := range out {
		rec := stateRecord{
			longKey:   r.Int64N(24) - 4,
			stringKey: skeys[r.IntN(len(skeys))],
			value:     r.Int64N(2_000_001) - 1_000_000,
			str:       strs[r.IntN(len(strs))],
			dbl:       float64(r.IntN(4001)-2000) / 4,
			boolean:   r.IntN(2) == 0,
		}
		rec.index = i
		if r.IntN(10) == 0 {
			rec.bcastKey = bkeys[r.IntN(len(bkeys))]
		}
		out[i] = rec
	}
	return out
}

func recordsTSV(recs []stateRecord) []byte {
	var b strings.Builder
	for _, r := range recs {
		bk := r.bcastKey
		if bk == "" {
			bk = "-"
		}
		fmt.Fprintf(&b, "%d\t%s\t%d\t%s\t%s\t%v\t%s\n", r.longKey, r.stringKey, r.value, r.str,
			strconv.FormatFloat(r.dbl, 'g', -1, 64), r.boolean, bk)
	}
	return []byte(b.String())
}

const (
	tuple2Class = "org.apache.flink.api.java.tuple.Tuple2"
	pojoClass   = "dev.ckpt.peer.StateJob$Pojo"
)

func floorMod(a, b int64) int64 { return ((a % b) + b) % b }

func tuple2(a, b Value) *Record {
	return &Record{Class: tuple2Class, Fields: []NamedItem{{"f0", a}, {"f1", b}}}
}

func pojo(name string, count int64, score float64, boxed Value) *Record {
	return &Record{Class: pojoClass, Fields: []NamedItem{{"boxed", boxed}, {"count", count}, {"name", name}, {"score", score}}}
}

// ttlMark stands for a TTL-wrapped value in the expectation: the reader
// must give a *TTLValue whose time falls in the test's window.
type ttlMark struct{ V Value }

// wantEntry is one expected keyed entry, in the shape the reader gives.
type wantEntry struct {
	key, ns, userKey, value Value
}

type wantOp struct {
	keyType string
	states  map[string]wantSchema
	entries map[string][]wantEntry
	// Operator state: state name → subtask → elements.
	opStates map[string]map[int][]Value
	// unframed: values without a known length (Kryo): the heap backend's
	// key-group format cannot be read past one, and the reader says so.
	unframed bool
}

type wantSchema struct {
	kind, value string
	ttl         bool
}

// expectedState applies StateJob's rules to recs: what each operator must hold.
func expectedState(recs []stateRecord, spec peers.StateJobSpec, parallelism int) map[string]*wantOp {
	byLong := map[int64][]stateRecord{}
	var longKeys []int64
	byString := map[string][]stateRecord{}
	var stringKeys []string
	type tkey struct {
		a int64
		b string
	}
	byTuple := map[tkey]int64{}
	var tupleKeys []tkey
	bcast := map[string]int64{}
	var bcastKeys []string
	for _, r := range recs {
		if _, ok := byLong[r.longKey]; !ok {
			longKeys = append(longKeys, r.longKey)
		}
		byLong[r.longKey] = append(byLong[r.longKey], r)
		if _, ok := byString[r.stringKey]; !ok {
			stringKeys = append(stringKeys, r.stringKey)
		}
		byString[r.stringKey] = append(byString[r.stringKey], r)
		tk := tkey{floorMod(r.longKey, 3), r.stringKey}
		if _, ok := byTuple[tk]; !ok {
			tupleKeys = append(tupleKeys, tk)
		}
		byTuple[tk] += r.value
		if r.bcastKey != "" {
			if _, ok := bcast[r.bcastKey]; !ok {
				bcastKeys = append(bcastKeys, r.bcastKey)
			}
			bcast[r.bcastKey] = r.value
		}
	}
	timer := "Timer<Long, VoidNamespace>"
	l := &wantOp{keyType: "Long", entries: map[string][]wantEntry{}, states: map[string]wantSchema{
		"v-long": {"VALUE", "Long", false}, "v-string": {"VALUE", "String", false}, "v-double": {"VALUE", "Double", false},
		"v-bool": {"VALUE", "Boolean", false}, "v-pojo": {"VALUE", "Pojo", false}, "v-tuple": {"VALUE", "Tuple2<Long, String>", false},
		"v-row": {"VALUE", "Row(Long, String, Integer)", false}, "v-ttl": {"VALUE", "TTL<Long>", true},
		"l-long": {"LIST", "List<Long>", false}, "l-string-ttl": {"LIST", "List<TTL<String>>", true},
		"m-string-long": {"MAP", "Map<String, Long>", false}, "m-long-pojo": {"MAP", "Map<Long, Pojo>", false},
		"m-ttl": {"MAP", "Map<String, TTL<Long>>", true}, "r-sum": {"REDUCING", "Long", false},
		"a-avg":                          {"AGGREGATING", "Tuple2<Long, Long>", false},
		"_timer_state/event_user-timers": {"TIMERS", timer, false}, "_timer_state/processing_user-timers": {"TIMERS", timer, false},
	}}
	add := func(op *wantOp, state string, e wantEntry) { op.entries[state] = append(op.entries[state], e) }
	for _, k := range longKeys {
		rs := byLong[k]
		last := rs[len(rs)-1]
		var longs, ttlStrs []any
		var sum int64
		maps := map[string][]MapEntry{}
		putMap := func(state string, uk, v Value) {
			for i := range maps[state] {
				if maps[state][i].Key == uk {
					maps[state][i].Value = v
					return
				}
			}
			maps[state] = append(maps[state], MapEntry{uk, v})
		}
		events, procs := map[int64]bool{}, map[int64]bool{}
		for _, r := range rs {
			longs = append(longs, r.value)
			ttlStrs = append(ttlStrs, ttlMark{r.str})
			sum += r.value
			putMap("m-string-long", r.str, r.value)
			putMap("m-long-pojo", floorMod(r.value, 5), pojo(r.stringKey, r.value, r.dbl, nil))
			putMap("m-ttl", r.str, ttlMark{r.value})
			events[1_000_000+r.value] = true
			procs[4_000_000_000_000+floorMod(r.value, 7)] = true
		}
		var boxed Value
		if last.value%2 == 0 {
			boxed = int32(last.value)
		}
		var rowInt Value
		if !last.boolean {
			rowInt = int32(last.value % 1000)
		}
		for state, v := range map[string]Value{
			"v-long": last.value, "v-string": last.str, "v-double": last.dbl, "v-bool": last.boolean,
			"v-pojo":  pojo(last.str, int64(len(rs)), last.dbl, boxed),
			"v-tuple": tuple2(last.value, last.str),
			"v-row":   &Record{Kind: "+I", Fields: []NamedItem{{"f0", last.value}, {"f1", last.str}, {"f2", rowInt}}},
			"v-ttl":   ttlMark{last.value}, "l-long": longs, "l-string-ttl": ttlStrs, "r-sum": sum,
			"a-avg": tuple2(sum, int64(len(rs))),
		} {
			add(l, state, wantEntry{key: k, value: v})
		}
		for state, es := range maps {
			for _, e := range es {
				add(l, state, wantEntry{key: k, userKey: e.Key, value: e.Value})
			}
		}
		for state, ts := range map[string]map[int64]bool{"_timer_state/event_user-timers": events, "_timer_state/processing_user-timers": procs} {
			for at := range ts {
				add(l, state, wantEntry{key: k, value: Timer{Timestamp: at, Key: k}})
			}
		}
	}
	s := &wantOp{keyType: "String", entries: map[string][]wantEntry{}, states: map[string]wantSchema{
		"count": {"VALUE", "Long", false}, "m-int-string": {"MAP", "Map<Integer, String>", false},
	}}
	for _, k := range stringKeys {
		rs := byString[k]
		add(s, "count", wantEntry{key: k, value: int64(len(rs))})
		for _, r := range rs {
			add(s, "m-int-string", wantEntry{key: k, userKey: int32(r.index), value: r.str})
		}
	}
	tu := &wantOp{keyType: "Tuple2<Long, String>", entries: map[string][]wantEntry{}, states: map[string]wantSchema{
		"sum": {"VALUE", "Long", false},
	}}
	for _, k := range tupleKeys {
		add(tu, "sum", wantEntry{key: tuple2(k.a, k.b), value: byTuple[k]})
	}
	// Every keyed process function has the user timer queues, empty here.
	for _, op := range []*wantOp{s, tu} {
		for _, q := range []string{"event", "processing"} {
			op.states["_timer_state/"+q+"_user-timers"] = wantSchema{"TIMERS", "Timer<" + op.keyType + ", VoidNamespace>", false}
		}
	}
	ops := &wantOp{opStates: map[string]map[int][]Value{"op-list": {}, "op-union": {}},
		states: map[string]wantSchema{"op-list": {"SPLIT_DISTRIBUTE", "String", false}, "op-union": {"UNION", "String", false}}}
	bc := &wantOp{opStates: map[string]map[int][]Value{"bcast": {}},
		states: map[string]wantSchema{"bcast": {"BROADCAST", "Long", false}}}
	for sub := range parallelism {
		for _, v := range spec.OpList {
			ops.opStates["op-list"][sub] = append(ops.opStates["op-list"][sub], fmt.Sprintf("%s-%d", v, sub))
		}
		for _, v := range spec.OpUnion {
			ops.opStates["op-union"][sub] = append(ops.opStates["op-union"][sub], fmt.Sprintf("%s-%d", v, sub))
		}
		for _, k := range bcastKeys {
			bc.opStates["bcast"][sub] = append(bc.opStates["bcast"][sub], MapEntry{k, bcast[k]})
		}
	}
	// The window operator: per key and tumbling window of 1000 ms over
	// value + 2_000_000, the reduced Tuple2(key, sum) and the window's
	// event-time timer at its end - 1.
	win := &wantOp{keyType: "Long", entries: map[string][]wantEntry{}, states: map[string]wantSchema{
		"window-contents":                       {"REDUCING", "Tuple2<Long, Long>", false},
		"_timer_state/event_window-timers":      {"TIMERS", "Timer<Long, TimeWindow>", false},
		"_timer_state/processing_window-timers": {"TIMERS", "Timer<Long, TimeWindow>", false},
	}}
	type kw struct {
		key   int64
		start int64
	}
	sums := map[kw]int64{}
	var order []kw
	for _, r := range recs {
		ts := r.value + 2_000_000
		k := kw{r.longKey, ts - floorMod(ts, 1000)}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += r.value
	}
	for _, k := range order {
		w := Window{Start: k.start, End: k.start + 1000}
		add(win, "window-contents", wantEntry{key: k.key, ns: w, value: tuple2(k.key, sums[k])})
		add(win, "_timer_state/event_window-timers", wantEntry{key: k.key, ns: w, value: Timer{Timestamp: w.End - 1, Key: k.key, Namespace: w}})
	}
	// The Kryo operator: the last record's value per long key, as bytes.
	kr := &wantOp{keyType: "Long", entries: map[string][]wantEntry{}, unframed: true, states: map[string]wantSchema{
		"v-kryo": {"VALUE", "Kryo(" + opaqueClass + ")", false},
	}}
	for _, k := range longKeys {
		add(kr, "v-kryo", wantEntry{key: k, value: rawMark{Serializer: opaqueClass + " (Kryo)", HasBytes: true}})
	}
	// The Avro operator: the last record per long key, its bytes computed
	// here (avroRecord).
	av := &wantOp{keyType: "Long", entries: map[string][]wantEntry{}, unframed: true, states: map[string]wantSchema{
		"v-avro": {"VALUE", "GenericRecord", false},
	}}
	for _, k := range longKeys {
		rs := byLong[k]
		last := rs[len(rs)-1]
		add(av, "v-avro", wantEntry{key: k, value: rawMark{Serializer: avroGeneric + " (Avro)", HasBytes: true, Hex: hex.EncodeToString(avroRecord(k, last.str, last.value))}})
	}
	// The Kafka-like source (parallelism 2 whatever the job's): partition p
	// of "orders-ß" at offset 1000p+7 on subtask p%2, partition 3 bounded.
	kafka := &wantOp{opStates: map[string]map[int][]Value{SourceReaderState: {}},
		states: map[string]wantSchema{SourceReaderState: {"SPLIT_DISTRIBUTE", "byte[]", false}}}
	for p := range int32(5) {
		k := KafkaSplit{Topic: "orders-ß", Partition: p, Offset: 1000*int64(p) + 7, Source: "KafkaSource"}
		if p == 3 {
			stop := int64(99_999)
			k.Stopping = &stop
		}
		kafka.opStates[SourceReaderState][int(p%2)] = append(kafka.opStates[SourceReaderState][int(p%2)], k)
	}
	for _, op := range []*wantOp{kr, av} {
		for _, q := range []string{"event", "processing"} {
			op.states["_timer_state/"+q+"_user-timers"] = wantSchema{"TIMERS", "Timer<" + op.keyType + ", VoidNamespace>", false}
		}
	}
	return map[string]*wantOp{"by-long": l, "by-string": s, "by-tuple": tu, "op-state": ops, "bcast": bc, "window": win, "kryo": kr, "avro": av, "kafka-like": kafka}
}

const opaqueClass = "dev.ckpt.peer.StateJob$Opaque"

var rawSeen atomic.Bool

const avroGeneric = "org.apache.avro.generic.GenericRecord"

// avroRecord is StateJob's record {key: long, str: string, value: long}
// as Flink's AvroSerializer writes it: through its DataOutputEncoder, not
// Avro's varint binary encoding — longs as 8 bytes big-endian, a string
// as a 4-byte length and its UTF-8 bytes.
func avroRecord(key int64, str string, value int64) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(key))
	b = binary.BigEndian.AppendUint32(b, uint32(len(str)))
	b = append(b, str...)
	return binary.BigEndian.AppendUint64(b, uint64(value))
}

// rawMark stands for bytes the reader must not decode (Kryo, Avro): the
// serializer it names (the value's class), that it gave the bytes, and
// for Avro the bytes themselves (the test knows Avro's encoding).
type rawMark struct {
	Serializer string
	HasBytes   bool
	Hex        string
}

// render is a comparable text of an entry; TTL wrappers are checked
// against the window and replaced by their value (ttlMark on both sides).
func render(t *testing.T, v Value, window [2]time.Time) string {
	t.Helper()
	var strip func(v Value) Value
	strip = func(v Value) Value {
		switch x := v.(type) {
		case *TTLValue:
			if x.LastAccess.Before(window[0]) || x.LastAccess.After(window[1]) {
				t.Errorf("TTL last access %v outside the job's run %v..%v", x.LastAccess, window[0], window[1])
			}
			return ttlMark{strip(x.Value)}
		case Raw:
			if rawSeen.CompareAndSwap(false, true) {
				t.Logf("a raw value: %+v", x)
			}
			m := rawMark{Serializer: x.Serializer, HasBytes: len(x.Hex) >= 2 && len(x.Text) == len(x.Hex)/2}
			if strings.HasSuffix(x.Serializer, "(Avro)") {
				m.Hex = x.Hex
			}
			return m
		case []any:
			out := make([]any, len(x))
			for i := range x {
				out[i] = strip(x[i])
			}
			return out
		case []MapEntry:
			out := make([]MapEntry, len(x))
			for i := range x {
				out[i] = MapEntry{strip(x[i].Key), strip(x[i].Value)}
			}
			return out
		}
		return v
	}
	b, err := json.Marshal(strip(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func compareSnapshot(t *testing.T, path string, want map[string]*wantOp, window [2]time.Time) {
	compareSnapshotOn(t, storage.NewLocal(), path, want, window)
}

// compareSnapshotOn is compareSnapshot with the snapshot read through fsys
// (local disk or HDFS).
func compareSnapshotOn(t *testing.T, fsys storage.FS, path string, want map[string]*wantOp, window [2]time.Time) {
	ctx := context.Background()
	m, err := snapshot.Read(ctx, fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	for uid, w := range want {
		id := snapshot.OperatorIDFromUID(uid)
		op := m.Operator(id)
		if op == nil {
			t.Errorf("%s: no operator %s (uid %s)", path, id, uid)
			continue
		}
		if w.keyType != "" {
			compareKeyed(t, ctx, fsys, m, op, uid, w, window)
		} else {
			compareOperator(t, ctx, fsys, m, op, uid, w, window)
		}
	}
}

func compareKeyed(t *testing.T, ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, uid string, w *wantOp, window [2]time.Time) {
	p, format, err := ReadKeyedSchema(ctx, fsys, m, op)
	if err != nil {
		t.Fatalf("%s: schema: %v", uid, err)
	}
	if got := p.Key.String(); got != w.keyType {
		t.Errorf("%s: key type %s, want %s", uid, got, w.keyType)
	}
	gotSchema := map[string]wantSchema{}
	for _, s := range p.States {
		gotSchema[s.Name] = wantSchema{s.Kind(), s.Serializers[RoleValue].String(), s.TTL()}
	}
	for name, ws := range w.states {
		if gs, ok := gotSchema[name]; !ok {
			t.Errorf("%s: no state %q in the schema (%v)", uid, name, gotSchema)
		} else if gs != ws {
			t.Errorf("%s state %q: schema %+v, want %+v", uid, name, gs, ws)
		}
	}
	for name := range gotSchema {
		if _, ok := w.states[name]; !ok {
			t.Errorf("%s: unexpected state %q", uid, name)
		}
	}
	got := map[string][]string{}
	err = ReadKeyed(ctx, fsys, m, op, "", func(e Entry) error {
		kg, err := KeyGroup(e.Key, int(op.MaxParallelism))
		if err != nil {
			return err
		}
		if kg != e.KeyGroup {
			t.Errorf("%s %s: key %v is in key group %d, Flink's formula says %d", uid, e.State, e.Key, e.KeyGroup, kg)
		}
		got[e.State] = append(got[e.State], entryText(t, e.Key, e.Namespace, e.UserKey, e.Value, window))
		return nil
	})
	if err != nil && w.unframed && format == FormatKeyGroups && errors.Is(err, ErrUnsupported) && strings.Contains(err.Error(), "no known length") {
		t.Logf("%s (%s): refused, as it must be: %v", uid, format, err)
		return
	}
	if err != nil {
		t.Fatalf("%s (%s): %v", uid, format, err)
	}
	for name := range w.states {
		var exp []string
		for _, e := range w.entries[name] {
			exp = append(exp, entryText(t, e.key, e.ns, e.userKey, e.value, window))
		}
		diffSorted(t, fmt.Sprintf("%s state %q (%s)", uid, name, format), got[name], exp)
	}
	// A key lookup (ckpt state --key) reads only the key's group and finds
	// exactly that key's entries, in every state.
	var keys []Value
	for _, e := range w.entries[slices.Sorted(maps.Keys(w.entries))[0]] {
		if len(keys) < 3 && !slices.ContainsFunc(keys, func(k Value) bool { return SameKey(k, e.key) }) {
			keys = append(keys, e.key)
		}
	}
	for _, k := range keys {
		kg, err := KeyGroup(k, int(op.MaxParallelism))
		if err != nil {
			t.Fatal(err)
		}
		var gotK, wantK []string
		err = ReadKeyGroup(ctx, fsys, m, op, "", kg, func(e Entry) error {
			if SameKey(e.Key, k) {
				gotK = append(gotK, e.State+": "+entryText(t, e.Key, e.Namespace, e.UserKey, e.Value, window))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: key %v: %v", uid, k, err)
		}
		for name, es := range w.entries {
			for _, e := range es {
				if SameKey(e.key, k) {
					wantK = append(wantK, name+": "+entryText(t, e.key, e.ns, e.userKey, e.value, window))
				}
			}
		}
		diffSorted(t, fmt.Sprintf("%s key %v lookup in key group %d (%s)", uid, render(t, k, window), kg, format), gotK, wantK)
	}
}

func entryText(t *testing.T, key, ns, userKey, value Value, window [2]time.Time) string {
	return render(t, key, window) + " | " + render(t, ns, window) + " | " + render(t, userKey, window) + " | " + render(t, value, window)
}

func diffSorted(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(got)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []string
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			extra = append(extra, g)
		}
	}
	t.Errorf("%s: %d entries, want %d\nmissing (first 5): %v\nunexpected (first 5): %v", what, len(got), len(want),
		missing[:min(5, len(missing))], extra[:min(5, len(extra))])
}

func compareOperator(t *testing.T, ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, uid string, w *wantOp, window [2]time.Time) {
	schema := ReadSchema(ctx, fsys, m)
	for _, s := range schema {
		if s.ID != op.ID.String() {
			continue
		}
		if s.Operator == nil {
			t.Fatalf("%s: no operator state schema: %v", uid, s.Errors)
		}
		for _, meta := range append(append([]*Meta{}, s.Operator.States...), s.Operator.Broadcast...) {
			got := wantSchema{meta.Kind(), meta.Serializers[RoleValue].String(), meta.TTL()}
			if ws := w.states[meta.Name]; got != ws {
				t.Errorf("%s state %q: schema %+v, want %+v", uid, meta.Name, got, ws)
			}
		}
	}
	got := map[string]map[int][]string{}
	err := ReadOperators(ctx, fsys, m, op, func(e OperatorElement) error {
		if got[e.State] == nil {
			got[e.State] = map[int][]string{}
		}
		got[e.State][e.Subtask] = append(got[e.State][e.Subtask], render(t, e.Value, window))
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", uid, err)
	}
	for name, subs := range w.opStates {
		for sub, vals := range subs {
			var exp []string
			for _, v := range vals {
				exp = append(exp, render(t, v, window))
			}
			diffSorted(t, fmt.Sprintf("%s state %q subtask %d", uid, name, sub), got[name][sub], exp)
		}
	}
}
