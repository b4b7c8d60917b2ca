package dev.ckpt.peer;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The test job, built from a JSON description (see peers/flink.go, FlinkJob):
 * a rate-limited generator followed by the operators the test lists, in order.
 * Every operator carries exactly the uid, name and parallelism the test gave it
 * (no uid when absent), because restores map state by operator ID.
 *
 * <p>Operator kinds (all records are longs; every operator passes its input on):
 * source (DataGeneratorSource emitting 0,1,2,...), count (keyBy v % keys, ValueState count per key),
 * sum (keyBy v % keys, ValueState sum per key), payload (keyBy v % keys, ValueState of
 * valueBytes pseudo-random bytes per key, rewritten per record), map (stateless), opstate (non-keyed ListState),
 * sink (discarding) and print (stdout sink).
 *
 * <p>As a jar entry point (POST /jars/:id/run) it takes {@code --job <json>} or {@code --job-file <path>}.
 */
public final class PeerJob {
    /** Records that reached the last operator before the sink, for throughput measurements. */
    static final LongAdder METER = new LongAdder();

    private PeerJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, Object> spec = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--job")) {
                spec = Json.parseObject(args[i + 1]);
            } else if (args[i].equals("--job-file")) {
                spec = Json.parseObject(Files.readString(Path.of(args[i + 1])));
            }
        }
        if (spec == null) {
            throw new IllegalArgumentException("PeerJob: pass --job <json> or --job-file <path>");
        }
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(configOf(spec));
        build(env, spec);
        env.execute(Json.str(spec, "name", "peer-job"));
    }

    /** The job-level Flink configuration: the "config" map, verbatim. */
    static Configuration configOf(Map<String, Object> spec) {
        Map<String, String> conf = new HashMap<>();
        Object raw = spec.get("config");
        if (raw instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                conf.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            }
        }
        return Configuration.fromMap(conf);
    }

    /** Adds the described pipeline to env. */
    @SuppressWarnings("unchecked")
    static void build(StreamExecutionEnvironment env, Map<String, Object> spec) {
        long keys = Json.lng(spec, "keys", 16);
        String keyDist = Json.str(spec, "keyDist", "");
        double rate = Json.dbl(spec, "rate", 50);
        int parallelism = (int) Json.lng(spec, "parallelism", 0);
        int maxParallelism = (int) Json.lng(spec, "maxParallelism", 0);
        if (parallelism > 0) {
            env.setParallelism(parallelism);
        }
        if (maxParallelism > 0) {
            env.setMaxParallelism(maxParallelism);
        }
        List<Object> ops = (List<Object>) spec.get("operators");
        if (ops == null || ops.isEmpty()) {
            throw new IllegalArgumentException("job has no operators");
        }
        // The meter sits in the last operator before the sink, so no extra operator
        // (with an auto-generated ID) appears in the job graph.
        int meterAt = -1;
        for (int i = ops.size() - 1; i >= 1; i--) {
            String kind = Json.str((Map<String, Object>) ops.get(i), "kind", "");
            if (!kind.equals("sink") && !kind.equals("print")) {
                meterAt = i;
                break;
            }
        }
        DataStream<Long> stream = null;
        for (int i = 0; i < ops.size(); i++) {
            Map<String, Object> op = (Map<String, Object>) ops.get(i);
            String kind = Json.str(op, "kind", "");
            boolean meter = i == meterAt;
            if (i == 0) {
                if (!kind.equals("source")) {
                    throw new IllegalArgumentException("operator 0 must be the source, got kind \"" + kind + "\"");
                }
                RateLimiterStrategy limiter = rate > 0 ? RateLimiterStrategy.perSecond(rate) : RateLimiterStrategy.noOp();
                DataGeneratorSource<Long> src =
                        new DataGeneratorSource<>(new Identity(), Long.MAX_VALUE, limiter, Types.LONG);
                stream = apply(env.fromSource(src, WatermarkStrategy.noWatermarks(), Json.str(op, "name", "source")), op);
                continue;
            }
            if (stream == null) {
                throw new IllegalStateException("unreachable");
            }
            switch (kind) {
                case "count":
                case "sum":
                    stream = apply(stream.keyBy(new ModKey(keys, keyDist))
                            .process(new KeyedState(kind.equals("sum"), meter)), op);
                    break;
                case "payload":
                    stream = apply(stream.keyBy(new ModKey(keys, keyDist))
                            .process(new Payload((int) Json.lng(op, "valueBytes", 1024), meter)), op);
                    break;
                case "map":
                    stream = apply(stream.map(new PassThrough(meter)), op);
                    break;
                case "opstate":
                    stream = apply(stream.map(new OperatorStateCounter(meter)), op);
                    break;
                case "slowsnapshot":
                    stream = apply(stream.map(new SlowSnapshot(Json.lng(op, "sleepMs", 100))), op);
                    break;
                case "sink":
                    applySink(stream.sinkTo(new DiscardingSink<>()), op);
                    stream = null;
                    break;
                case "print":
                    applySink(stream.print(), op);
                    stream = null;
                    break;
                default:
                    throw new IllegalArgumentException("operator " + i + ": unknown kind \"" + kind
                            + "\" (want source, count, sum, payload, map, opstate, slowsnapshot, sink, print)");
            }
            if (stream == null && i != ops.size() - 1) {
                throw new IllegalArgumentException("operator " + i + ": a sink must be the last operator");
            }
        }
    }

    private static <T> SingleOutputStreamOperator<T> apply(SingleOutputStreamOperator<T> s, Map<String, Object> op) {
        String uid = Json.str(op, "uid", null);
        if (uid != null && !uid.isEmpty()) {
            s.uid(uid);
        }
        String name = Json.str(op, "name", null);
        if (name != null && !name.isEmpty()) {
            s.name(name);
        }
        int p = (int) Json.lng(op, "parallelism", 0);
        if (p > 0) {
            s.setParallelism(p);
        }
        int mp = (int) Json.lng(op, "maxParallelism", 0);
        if (mp > 0) {
            s.setMaxParallelism(mp);
        }
        return s;
    }

    private static void applySink(DataStreamSink<Long> s, Map<String, Object> op) {
        String uid = Json.str(op, "uid", null);
        if (uid != null && !uid.isEmpty()) {
            s.uid(uid);
        }
        String name = Json.str(op, "name", null);
        if (name != null && !name.isEmpty()) {
            s.name(name);
        }
        int p = (int) Json.lng(op, "parallelism", 0);
        if (p > 0) {
            s.setParallelism(p);
        }
        int mp = (int) Json.lng(op, "maxParallelism", 0);
        if (mp > 0) {
            s.setMaxParallelism(mp);
        }
    }

    /** Generator: record i is the long i. */
    public static final class Identity implements GeneratorFunction<Long, Long> {
        @Override
        public Long map(Long index) {
            return index;
        }
    }

    /**
     * Key = value mod the key space, so the job touches exactly `keys` distinct keys ("" or
     * "seq": round-robin). "uniform": a hash of the value mod the key space (uniformly random
     * keys); "zipf": key floor(keys^u) - 1 for u uniform in [0,1) from the same hash, Zipf's law
     * with exponent 1 (key k is drawn with a probability of about 1/((k+1) ln keys)). ckpt's
     * benchmarks (bench/payload_bench_test.go, keyOf) draw keys with the same functions.
     */
    public static final class ModKey implements KeySelector<Long, Long> {
        private final long keys;
        private final String dist;

        ModKey(long keys, String dist) {
            this.keys = Math.max(1, keys);
            this.dist = dist == null ? "" : dist;
        }

        static long mix(long z) {
            z += 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        @Override
        public Long getKey(Long v) {
            switch (dist) {
                case "uniform":
                    return Long.remainderUnsigned(mix(v), keys);
                case "zipf":
                    double u = (mix(v) >>> 11) * 0x1.0p-53;
                    long k = (long) Math.floor(Math.exp(u * Math.log((double) keys))) - 1;
                    return Math.max(0, Math.min(keys - 1, k));
                default:
                    return Math.floorMod(v, keys);
            }
        }
    }

    /** Keyed ValueState: a count (or sum) per key. */
    public static final class KeyedState extends KeyedProcessFunction<Long, Long, Long> {
        private final boolean sum;
        private final boolean meter;
        private transient ValueState<Long> state;

        KeyedState(boolean sum, boolean meter) {
            this.sum = sum;
            this.meter = meter;
        }

        @Override
        public void open(OpenContext ctx) {
            state = getRuntimeContext().getState(new ValueStateDescriptor<>(sum ? "sum" : "count", Types.LONG));
        }

        @Override
        public void processElement(Long v, Context ctx, Collector<Long> out) throws Exception {
            Long cur = state.value();
            long next = (cur == null ? 0 : cur) + (sum ? v : 1);
            state.update(next);
            if (meter) {
                METER.increment();
            }
            out.collect(v);
        }
    }

    /**
     * Keyed ValueState of valueBytes bytes per key, rewritten by every record with
     * pseudo-random (incompressible) bytes: fills large state quickly for size benchmarks.
     */
    public static final class Payload extends KeyedProcessFunction<Long, Long, Long> {
        private final int valueBytes;
        private final boolean meter;
        private transient ValueState<byte[]> state;

        Payload(int valueBytes, boolean meter) {
            this.valueBytes = Math.max(8, valueBytes);
            this.meter = meter;
        }

        @Override
        public void open(OpenContext ctx) {
            state = getRuntimeContext().getState(
                    new ValueStateDescriptor<>("payload", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }

        @Override
        public void processElement(Long v, Context ctx, Collector<Long> out) throws Exception {
            byte[] cur = state.value();
            byte[] next = new byte[valueBytes];
            long x = v * 0x9E3779B97F4A7C15L + (cur == null ? 1 : cur[0]);
            for (int i = 0; i + 8 <= valueBytes; i += 8) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                for (int b = 0; b < 8; b++) {
                    next[i + b] = (byte) (x >>> (8 * b));
                }
            }
            state.update(next);
            if (meter) {
                METER.increment();
            }
            out.collect(v);
        }
    }

    /** Stateless pass-through. */
    public static final class PassThrough extends RichMapFunction<Long, Long> {
        private final boolean meter;

        PassThrough(boolean meter) {
            this.meter = meter;
        }

        @Override
        public Long map(Long v) {
            if (meter) {
                METER.increment();
            }
            return v;
        }
    }

    /** Non-keyed operator state (ListState "seen"): records seen by this subtask. */
    public static final class OperatorStateCounter extends RichMapFunction<Long, Long> implements CheckpointedFunction {
        private final boolean meter;
        private transient ListState<Long> state;
        private transient long seen;

        OperatorStateCounter(boolean meter) {
            this.meter = meter;
        }

        @Override
        public Long map(Long v) {
            seen++;
            if (meter) {
                METER.increment();
            }
            return v;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
            state.update(List.of(seen));
        }

        @Override
        public void initializeState(FunctionInitializationContext ctx) throws Exception {
            state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<>("seen", Types.LONG));
            for (Long s : state.get()) {
                seen += s;
            }
        }
    }

    /** Stateless, but each snapshot takes sleepMs in the synchronous phase: checkpoints made slow (or to time out). */
    public static final class SlowSnapshot extends RichMapFunction<Long, Long> implements CheckpointedFunction {
        private final long sleepMs;

        SlowSnapshot(long sleepMs) {
            this.sleepMs = sleepMs;
        }

        @Override
        public Long map(Long v) {
            return v;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
            Thread.sleep(sleepMs);
        }

        @Override
        public void initializeState(FunctionInitializationContext ctx) {}
    }
}
