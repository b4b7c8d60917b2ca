package dev.ckpt.peer;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a large, fully known keyed state for the state reader's benchmarks: keys 0..keys-1
 * (Long), each with three value states whose contents depend on the key only
 * (see {@link #longValue}, {@link #stringValue}, {@link #pojoValue}; bench/ checks them):
 * v-long (Long), v-string (String of stringLen characters), v-pojo (StateJob.Pojo).
 *
 * <p>Operator "values" (uid and name), parallelism 1, the job's max parallelism. The
 * generator emits 0,1,2,... unthrottled; past keys-1 it slows to a trickle (so the job
 * keeps RUNNING for a savepoint without burning a core) and drops its records. When key
 * keys-1 is written, every key is (one ordered channel), and the job writes the "done" file.
 *
 * <p>Entry point (POST /jars/:id/run): {@code --job <json>}: peers/flink.go's jobSpec plus
 * "keys", "stringLen", "done".
 */
public final class ValuesJob {
    private ValuesJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, Object> spec = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--job")) {
                spec = Json.parseObject(args[i + 1]);
            }
        }
        if (spec == null) {
            throw new IllegalArgumentException("ValuesJob: pass --job <json>");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(PeerJob.configOf(spec));
        long keys = Json.lng(spec, "keys", 1000);
        int stringLen = (int) Json.lng(spec, "stringLen", 48);
        String done = Json.str(spec, "done", null);
        if (done == null) {
            throw new IllegalArgumentException("ValuesJob: the spec needs \"done\"");
        }
        env.setParallelism(1);
        int maxParallelism = (int) Json.lng(spec, "maxParallelism", 0);
        if (maxParallelism > 0) {
            env.setMaxParallelism(maxParallelism);
        }
        DataGeneratorSource<Long> src = new DataGeneratorSource<>(new PeerJob.Identity(), Long.MAX_VALUE,
                RateLimiterStrategy.noOp(), Types.LONG);
        env.fromSource(src, WatermarkStrategy.noWatermarks(), "keys").uid("keys")
                .filter(new FirstN(keys)).uid("first-n")
                .keyBy(v -> v, Types.LONG)
                .process(new Values(keys, stringLen, done)).uid("values").name("values")
                .sinkTo(new DiscardingSink<>()).uid("values-sink").name("values-sink");
        env.execute(Json.str(spec, "name", "values-job"));
    }

    /** Passes 0..n-1; afterwards drops records, one per 20 ms. */
    public static final class FirstN implements FilterFunction<Long> {
        private final long n;

        FirstN(long n) {
            this.n = n;
        }

        @Override
        public boolean filter(Long v) throws Exception {
            if (v < n) {
                return true;
            }
            Thread.sleep(20);
            return false;
        }
    }

    static long longValue(long k) {
        return k * 3;
    }

    static String stringValue(long k, int len) {
        StringBuilder b = new StringBuilder(len).append("value-").append(k).append('-');
        while (b.length() < len) {
            b.append('.');
        }
        return b.toString();
    }

    static StateJob.Pojo pojoValue(long k) {
        return new StateJob.Pojo("pojo-" + k, k, k / 2.0, k % 2 == 0 ? (int) (k % 100_000) : null);
    }

    public static final class Values extends KeyedProcessFunction<Long, Long, Long> {
        private final long keys;
        private final int stringLen;
        private final String done;
        private transient ValueState<Long> vLong;
        private transient ValueState<String> vString;
        private transient ValueState<StateJob.Pojo> vPojo;

        Values(long keys, int stringLen, String done) {
            this.keys = keys;
            this.stringLen = stringLen;
            this.done = done;
        }

        @Override
        public void open(OpenContext ctx) {
            vLong = getRuntimeContext().getState(new ValueStateDescriptor<>("v-long", Types.LONG));
            vString = getRuntimeContext().getState(new ValueStateDescriptor<>("v-string", Types.STRING));
            vPojo = getRuntimeContext().getState(new ValueStateDescriptor<>("v-pojo", Types.POJO(StateJob.Pojo.class)));
        }

        @Override
        public void processElement(Long k, Context ctx, Collector<Long> out) throws Exception {
            vLong.update(longValue(k));
            vString.update(stringValue(k, stringLen));
            vPojo.update(pojoValue(k));
            if (k == keys - 1) {
                Path tmp = Path.of(done + ".tmp");
                Files.writeString(tmp, keys + "\n");
                Files.move(tmp, Path.of(done));
            }
        }
    }
}
