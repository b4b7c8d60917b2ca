package dev.ckpt.peer;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.AggregatingState;
import org.apache.flink.api.common.state.AggregatingStateDescriptor;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ReducingState;
import org.apache.flink.api.common.state.ReducingStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.types.Row;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.util.Collector;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A job that writes CHOSEN state, for ckpt's state reader to read back (snapshot/state's
 * peer test). The test writes the input records to a file (one per line, tab-separated:
 * long key, string key, value, string, double, boolean, broadcast key or "-"); the job
 * replays them once, in order, and every operator applies fixed rules, so the test knows
 * every entry of every state. After the input the generator keeps running but everything
 * it emits is dropped, so the job stays RUNNING for snapshots. When the last record has
 * gone through every operator, the job writes the "done" file named in the spec.
 *
 * <p>Entry point (POST /jars/:id/run): {@code --job <json>}: the spec of peers/flink.go's
 * jobSpec (name, parallelism, config) plus "input", "done", "opList", "opUnion".
 *
 * <p>Operators (uid: states):
 * <ul>
 * <li>by-long (keyBy long key): v-long, v-string, v-double, v-bool, v-pojo, v-tuple, v-row
 *     (values of the last record), v-ttl (Long, TTL), l-long (List of values), l-string-ttl
 *     (List of strings, TTL), m-string-long (Map string → value), m-long-pojo (Map value%5 →
 *     Pojo), m-ttl (Map string → value, TTL), r-sum (Reducing sum), a-avg (Aggregating,
 *     accumulator Tuple2(sum, count)); an event-time timer at 1_000_000 + value and a
 *     processing-time timer at 4_000_000_000_000 + value % 7 per record (neither fires).
 * <li>by-string (keyBy string key): count (records), m-int-string (Map record index → string:
 *     records of one string key arrive from two by-long subtasks in no fixed order).
 * <li>by-tuple (keyBy Tuple2(long key % 3, string key)): sum (of values).
 * <li>op-state (operator state, subtask i): op-list = opList with "-i" appended to each,
 *     op-union (union) = opUnion with "-i" appended.
 * <li>bcast (broadcast state "bcast", on every subtask): broadcast key → last value.
 * <li>kryo (keyBy long key): v-kryo, an Opaque(last value, its string key) — a class Flink's
 *     type extractor treats as generic, so Kryo serializes it. Its own operator: the heap
 *     backend's checkpoint format does not frame values, so nothing after a Kryo value can be
 *     found without Kryo.
 * <li>avro (keyBy long key): v-avro, an Avro GenericRecord {key: long, str: string, value: long}
 *     of the last record (Flink's AvroSerializer; the writer schema is in the snapshot).
 * <li>kafka-like (a FLIP-27 source whose splits are KafkaSource's, parallelism 2): its
 *     SourceReaderState holds KafkaLikeSource's splits of topic "orders-ß".
 * <li>window (keyBy long key, tumbling event-time windows of 1000 ms over the timestamp
 *     value + 2_000_000, reduce): window-contents = Tuple2(long key, sum of values) per key and
 *     TimeWindow, and an event-time timer at the window's end - 1; no watermarks, so nothing
 *     fires. Aligned snapshots taken after the done file hold every record here too.
 * </ul>
 */
public final class StateJob {
    private StateJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, Object> spec = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--job")) {
                spec = Json.parseObject(args[i + 1]);
            }
        }
        if (spec == null) {
            throw new IllegalArgumentException("StateJob: pass --job <json>");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(PeerJob.configOf(spec));
        build(env, spec);
        env.execute(Json.str(spec, "name", "state-job"));
    }

    /** One input record. */
    static final class Rec {
        long longKey;
        String stringKey;
        long value;
        String str;
        double dbl;
        boolean bool;
        String bcastKey; // null: not a broadcast record
    }

    private static final Map<String, Rec[]> INPUTS = new ConcurrentHashMap<>();

    static Rec[] input(String path) {
        return INPUTS.computeIfAbsent(path, p -> {
            try {
                List<Rec> out = new ArrayList<>();
                for (String line : Files.readAllLines(Path.of(p), StandardCharsets.UTF_8)) {
                    if (line.isEmpty()) {
                        continue;
                    }
                    String[] f = line.split("\t", -1);
                    if (f.length != 7) {
                        throw new IllegalArgumentException(p + ": want 7 fields, got " + f.length + ": " + line);
                    }
                    Rec r = new Rec();
                    r.longKey = Long.parseLong(f[0]);
                    r.stringKey = f[1];
                    r.value = Long.parseLong(f[2]);
                    r.str = f[3];
                    r.dbl = Double.parseDouble(f[4]);
                    r.bool = Boolean.parseBoolean(f[5]);
                    r.bcastKey = f[6].equals("-") ? null : f[6];
                    out.add(r);
                }
                return out.toArray(new Rec[0]);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A POJO value: public fields, no-arg constructor (Flink's PojoSerializer). */
    public static class Pojo {
        public String name;
        public long count;
        public double score;
        public Integer boxed;

        public Pojo() {}

        Pojo(String name, long count, double score, Integer boxed) {
            this.name = name;
            this.count = count;
            this.score = score;
            this.boxed = boxed;
        }
    }

    /** No no-arg constructor and private fields: Flink's type extractor makes it a generic type (Kryo). */
    public static final class Opaque {
        private final long value;
        private final String key;

        Opaque(long value, String key) {
            this.value = value;
            this.key = key;
        }

        @Override
        public String toString() {
            return key + "=" + value;
        }
    }

    /** Window assigner input: (long key, value), stamped value + 2_000_000. */
    public static final class KeyValue implements org.apache.flink.api.common.functions.MapFunction<Long, Tuple2<Long, Long>> {
        private final String input;

        KeyValue(String input) {
            this.input = input;
        }

        @Override
        public Tuple2<Long, Long> map(Long i) {
            Rec r = input(input)[i.intValue()];
            return Tuple2.of(r.longKey, r.value);
        }
    }

    @SuppressWarnings("unchecked")
    static void build(StreamExecutionEnvironment env, Map<String, Object> spec) {
        String input = Json.str(spec, "input", null);
        String done = Json.str(spec, "done", null);
        if (input == null || done == null) {
            throw new IllegalArgumentException("StateJob: the spec needs \"input\" and \"done\"");
        }
        int parallelism = (int) Json.lng(spec, "parallelism", 2);
        int maxParallelism = (int) Json.lng(spec, "maxParallelism", 0);
        env.setParallelism(parallelism);
        if (maxParallelism > 0) {
            env.setMaxParallelism(maxParallelism);
        }
        List<String> opList = (List<String>) spec.getOrDefault("opList", List.of());
        List<String> opUnion = (List<String>) spec.getOrDefault("opUnion", List.of());
        int n = input(input).length;
        long bcastCount = 0;
        for (Rec r : input(input)) {
            if (r.bcastKey != null) {
                bcastCount++;
            }
        }

        DataGeneratorSource<Long> src = new DataGeneratorSource<>(new PeerJob.Identity(), Long.MAX_VALUE,
                RateLimiterStrategy.perSecond(2000), Types.LONG);
        DataStream<Long> records = env.fromSource(src, WatermarkStrategy.noWatermarks(), "records")
                .uid("records").setParallelism(1)
                .filter(i -> i < n).uid("first-n").setParallelism(1);

        DataStream<Long> main = records
                .keyBy(new LongKey(input), Types.LONG).process(new ByLong(input)).uid("by-long").name("by-long")
                .keyBy(new StringKey(input), Types.STRING).process(new ByString(input)).uid("by-string").name("by-string")
                .keyBy(new TupleKey(input), Types.TUPLE(Types.LONG, Types.STRING)).process(new ByTuple(input))
                .uid("by-tuple").name("by-tuple")
                .map(new OpState(opList, opUnion)).uid("op-state").name("op-state");
        BroadcastStream<Long> bcast = records.filter(new IsBroadcast(input)).uid("bcast-filter").setParallelism(1)
                .broadcast(BCAST);
        main.connect(bcast).process(new Bcast(input)).uid("bcast").name("bcast")
                .map(new Done(done, n, bcastCount * parallelism)).uid("done").name("done").setParallelism(1)
                .sinkTo(new DiscardingSink<>()).uid("sink").name("sink").setParallelism(1);
        records.keyBy(new LongKey(input), Types.LONG).process(new ByKryo(input)).uid("kryo").name("kryo")
                .sinkTo(new DiscardingSink<>()).uid("kryo-sink").name("kryo-sink");
        records.keyBy(new LongKey(input), Types.LONG).process(new ByAvro(input)).uid("avro").name("avro")
                .sinkTo(new DiscardingSink<>()).uid("avro-sink").name("avro-sink");
        env.fromSource(new KafkaLikeSource(), WatermarkStrategy.noWatermarks(), "kafka-like").uid("kafka-like")
                .setParallelism(2)
                .sinkTo(new DiscardingSink<>()).uid("kafka-like-sink").name("kafka-like-sink").setParallelism(2);
        records.map(new KeyValue(input)).uid("key-value").returns(Types.TUPLE(Types.LONG, Types.LONG))
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Tuple2<Long, Long>>noWatermarks()
                        .withTimestampAssigner((kv, ts) -> kv.f1 + 2_000_000L)).uid("stamp")
                .keyBy(kv -> kv.f0, Types.LONG)
                .window(TumblingEventTimeWindows.of(Duration.ofMillis(1000)))
                .reduce((a, b) -> Tuple2.of(a.f0, a.f1 + b.f1)).uid("window").name("window")
                .sinkTo(new DiscardingSink<>()).uid("window-sink").name("window-sink");
    }

    static final MapStateDescriptor<String, Long> BCAST = new MapStateDescriptor<>("bcast", Types.STRING, Types.LONG);

    public static final class LongKey implements KeySelector<Long, Long> {
        private final String input;

        LongKey(String input) {
            this.input = input;
        }

        @Override
        public Long getKey(Long i) {
            return input(input)[i.intValue()].longKey;
        }
    }

    public static final class StringKey implements KeySelector<Long, String> {
        private final String input;

        StringKey(String input) {
            this.input = input;
        }

        @Override
        public String getKey(Long i) {
            return input(input)[i.intValue()].stringKey;
        }
    }

    public static final class TupleKey implements KeySelector<Long, Tuple2<Long, String>> {
        private final String input;

        TupleKey(String input) {
            this.input = input;
        }

        @Override
        public Tuple2<Long, String> getKey(Long i) {
            Rec r = input(input)[i.intValue()];
            return Tuple2.of(Math.floorMod(r.longKey, 3L), r.stringKey);
        }
    }

    public static final class IsBroadcast implements org.apache.flink.api.common.functions.FilterFunction<Long> {
        private final String input;

        IsBroadcast(String input) {
            this.input = input;
        }

        @Override
        public boolean filter(Long i) {
            return input(input)[i.intValue()].bcastKey != null;
        }
    }

    static StateTtlConfig ttl() {
        return StateTtlConfig.newBuilder(Duration.ofDays(7)).build();
    }

    /** Sum and count of values; the result is their average. */
    public static final class Avg implements AggregateFunction<Long, Tuple2<Long, Long>, Double> {
        @Override
        public Tuple2<Long, Long> createAccumulator() {
            return Tuple2.of(0L, 0L);
        }

        @Override
        public Tuple2<Long, Long> add(Long v, Tuple2<Long, Long> acc) {
            return Tuple2.of(acc.f0 + v, acc.f1 + 1);
        }

        @Override
        public Double getResult(Tuple2<Long, Long> acc) {
            return acc.f1 == 0 ? 0 : (double) acc.f0 / acc.f1;
        }

        @Override
        public Tuple2<Long, Long> merge(Tuple2<Long, Long> a, Tuple2<Long, Long> b) {
            return Tuple2.of(a.f0 + b.f0, a.f1 + b.f1);
        }
    }

    public static final class ByLong extends KeyedProcessFunction<Long, Long, Long> {
        private final String input;
        private transient ValueState<Long> vLong;
        private transient ValueState<String> vString;
        private transient ValueState<Double> vDouble;
        private transient ValueState<Boolean> vBool;
        private transient ValueState<Pojo> vPojo;
        private transient ValueState<Tuple2<Long, String>> vTuple;
        private transient ValueState<Row> vRow;
        private transient ValueState<Long> vTtl;
        private transient ListState<Long> lLong;
        private transient ListState<String> lStringTtl;
        private transient MapState<String, Long> mStringLong;
        private transient MapState<Long, Pojo> mLongPojo;
        private transient MapState<String, Long> mTtl;
        private transient ReducingState<Long> rSum;
        private transient AggregatingState<Long, Double> aAvg;

        ByLong(String input) {
            this.input = input;
        }

        @Override
        public void open(OpenContext ctx) {
            vLong = getRuntimeContext().getState(new ValueStateDescriptor<>("v-long", Types.LONG));
            vString = getRuntimeContext().getState(new ValueStateDescriptor<>("v-string", Types.STRING));
            vDouble = getRuntimeContext().getState(new ValueStateDescriptor<>("v-double", Types.DOUBLE));
            vBool = getRuntimeContext().getState(new ValueStateDescriptor<>("v-bool", Types.BOOLEAN));
            vPojo = getRuntimeContext().getState(new ValueStateDescriptor<>("v-pojo", Types.POJO(Pojo.class)));
            vTuple = getRuntimeContext().getState(
                    new ValueStateDescriptor<>("v-tuple", Types.TUPLE(Types.LONG, Types.STRING)));
            TypeInformation<Row> row = Types.ROW(Types.LONG, Types.STRING, Types.INT);
            vRow = getRuntimeContext().getState(new ValueStateDescriptor<>("v-row", row));
            ValueStateDescriptor<Long> ttlDesc = new ValueStateDescriptor<>("v-ttl", Types.LONG);
            ttlDesc.enableTimeToLive(ttl());
            vTtl = getRuntimeContext().getState(ttlDesc);
            lLong = getRuntimeContext().getListState(new ListStateDescriptor<>("l-long", Types.LONG));
            ListStateDescriptor<String> lTtl = new ListStateDescriptor<>("l-string-ttl", Types.STRING);
            lTtl.enableTimeToLive(ttl());
            lStringTtl = getRuntimeContext().getListState(lTtl);
            mStringLong = getRuntimeContext().getMapState(
                    new MapStateDescriptor<>("m-string-long", Types.STRING, Types.LONG));
            mLongPojo = getRuntimeContext().getMapState(
                    new MapStateDescriptor<>("m-long-pojo", Types.LONG, Types.POJO(Pojo.class)));
            MapStateDescriptor<String, Long> mTtlDesc = new MapStateDescriptor<>("m-ttl", Types.STRING, Types.LONG);
            mTtlDesc.enableTimeToLive(ttl());
            mTtl = getRuntimeContext().getMapState(mTtlDesc);
            rSum = getRuntimeContext().getReducingState(
                    new ReducingStateDescriptor<>("r-sum", (a, b) -> a + b, Types.LONG));
            aAvg = getRuntimeContext().getAggregatingState(
                    new AggregatingStateDescriptor<>("a-avg", new Avg(), Types.TUPLE(Types.LONG, Types.LONG)));
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            Rec r = input(input)[i.intValue()];
            vLong.update(r.value);
            vString.update(r.str);
            vDouble.update(r.dbl);
            vBool.update(r.bool);
            vPojo.update(new Pojo(r.str, lCount() + 1, r.dbl, r.value % 2 == 0 ? (int) r.value : null));
            vTuple.update(Tuple2.of(r.value, r.str));
            vRow.update(Row.of(r.value, r.str, r.bool ? null : (int) (r.value % 1000)));
            vTtl.update(r.value);
            lLong.add(r.value);
            lStringTtl.add(r.str);
            mStringLong.put(r.str, r.value);
            mLongPojo.put(Math.floorMod(r.value, 5L), new Pojo(r.stringKey, r.value, r.dbl, null));
            mTtl.put(r.str, r.value);
            rSum.add(r.value);
            aAvg.add(r.value);
            ctx.timerService().registerEventTimeTimer(1_000_000L + r.value);
            ctx.timerService().registerProcessingTimeTimer(4_000_000_000_000L + Math.floorMod(r.value, 7L));
            out.collect(i);
        }

        private int lCount() throws Exception {
            int c = 0;
            for (Long ignored : lLong.get()) {
                c++;
            }
            return c;
        }
    }

    public static final class ByKryo extends KeyedProcessFunction<Long, Long, Long> {
        private final String input;
        private transient ValueState<Opaque> vKryo;

        ByKryo(String input) {
            this.input = input;
        }

        @Override
        public void open(OpenContext ctx) {
            vKryo = getRuntimeContext().getState(new ValueStateDescriptor<>("v-kryo", Types.GENERIC(Opaque.class)));
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            Rec r = input(input)[i.intValue()];
            vKryo.update(new Opaque(r.value, r.stringKey));
        }
    }

    static final String AVRO_SCHEMA = "{\"type\":\"record\",\"name\":\"Rec\",\"namespace\":\"dev.ckpt.peer\",\"fields\":["
            + "{\"name\":\"key\",\"type\":\"long\"},{\"name\":\"str\",\"type\":\"string\"},{\"name\":\"value\",\"type\":\"long\"}]}";

    public static final class ByAvro extends KeyedProcessFunction<Long, Long, Long> {
        private final String input;
        private transient Schema schema;
        private transient ValueState<GenericRecord> vAvro;

        ByAvro(String input) {
            this.input = input;
        }

        @Override
        public void open(OpenContext ctx) {
            schema = new Schema.Parser().parse(AVRO_SCHEMA);
            vAvro = getRuntimeContext().getState(new ValueStateDescriptor<>("v-avro", new GenericRecordAvroTypeInfo(schema)));
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            Rec r = input(input)[i.intValue()];
            GenericRecord g = new GenericData.Record(schema);
            g.put("key", r.longKey);
            g.put("str", r.str);
            g.put("value", r.value);
            vAvro.update(g);
        }
    }

    public static final class ByString extends KeyedProcessFunction<String, Long, Long> {
        private final String input;
        private transient ValueState<Long> count;
        private transient MapState<Integer, String> mIntString;

        ByString(String input) {
            this.input = input;
        }

        @Override
        public void open(OpenContext ctx) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
            mIntString = getRuntimeContext().getMapState(
                    new MapStateDescriptor<>("m-int-string", Types.INT, Types.STRING));
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            Rec r = input(input)[i.intValue()];
            Long c = count.value();
            count.update(c == null ? 1 : c + 1);
            mIntString.put(i.intValue(), r.str);
            out.collect(i);
        }
    }

    public static final class ByTuple extends KeyedProcessFunction<Tuple2<Long, String>, Long, Long> {
        private final String input;
        private transient ValueState<Long> sum;

        ByTuple(String input) {
            this.input = input;
        }

        @Override
        public void open(OpenContext ctx) {
            sum = getRuntimeContext().getState(new ValueStateDescriptor<>("sum", Types.LONG));
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            Rec r = input(input)[i.intValue()];
            Long s = sum.value();
            sum.update(s == null ? r.value : s + r.value);
            out.collect(i);
        }
    }

    /** Operator list and union state whose elements depend only on the subtask index. */
    public static final class OpState extends RichMapFunction<Long, Long> implements CheckpointedFunction {
        private final List<String> list;
        private final List<String> union;
        private transient ListState<String> listState;
        private transient ListState<String> unionState;

        OpState(List<String> list, List<String> union) {
            this.list = new ArrayList<>(list);
            this.union = new ArrayList<>(union);
        }

        @Override
        public Long map(Long i) {
            return i;
        }

        private List<String> suffixed(List<String> in) {
            int sub = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            List<String> out = new ArrayList<>();
            for (String s : in) {
                out.add(s + "-" + sub);
            }
            return out;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
            listState.update(suffixed(list));
            unionState.update(suffixed(union));
        }

        @Override
        public void initializeState(FunctionInitializationContext ctx) throws Exception {
            listState = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<>("op-list", Types.STRING));
            unionState = ctx.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>("op-union", Types.STRING));
        }
    }

    /** Broadcast state: broadcast key → last value. Main records pass; each broadcast record emits -1. */
    public static final class Bcast extends BroadcastProcessFunction<Long, Long, Long> {
        private final String input;

        Bcast(String input) {
            this.input = input;
        }

        @Override
        public void processElement(Long i, ReadOnlyContext ctx, Collector<Long> out) throws Exception {
            ReadOnlyBroadcastState<String, Long> ignored = ctx.getBroadcastState(BCAST);
            out.collect(i);
        }

        @Override
        public void processBroadcastElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            Rec r = input(input)[i.intValue()];
            BroadcastState<String, Long> s = ctx.getBroadcastState(BCAST);
            s.put(r.bcastKey, r.value);
            out.collect(-1L);
        }
    }

    /** Writes the done file once every record passed every operator (and every broadcast record reached every subtask). */
    public static final class Done extends RichMapFunction<Long, Long> {
        private final String path;
        private final long main;
        private final long bcast;
        private transient long seenMain;
        private transient long seenBcast;
        private transient boolean written;

        Done(String path, long main, long bcast) {
            this.path = path;
            this.main = main;
            this.bcast = bcast;
        }

        @Override
        public Long map(Long v) throws Exception {
            if (v < 0) {
                seenBcast++;
            } else {
                seenMain++;
            }
            if (!written && seenMain == main && seenBcast == bcast) {
                Path tmp = Path.of(path + ".tmp");
                Files.writeString(tmp, main + " " + bcast + "\n");
                Files.move(tmp, Path.of(path));
                written = true;
            }
            return v;
        }
    }
}
