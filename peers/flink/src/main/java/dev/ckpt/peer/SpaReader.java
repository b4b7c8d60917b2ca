package dev.ckpt.peer;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Flink's State Processor API reading ValuesJob's keyed state (v-long, v-string, v-pojo of
 * operator "values"), the Java side of the state reader's benchmarks (bench/). Test equipment:
 * it reports what the SPA read and how long it took, nothing else.
 *
 * <p>Mode {@code spa-serve} of Peer: prints "@@ckpt {"event":"ready",...}", then answers one
 * JSON request per stdin line with one "@@ckpt {...}" line:
 * <pre>
 *   {"cmd":"read-keyed","path":P,"uid":U,"backend":"hashmap"|"rocksdb","parallelism":1,"key":K?,"tmpDir":D?}
 * </pre>
 * Without "key", every key's three values are read (a full scan); with "key", the SPA still
 * restores and visits every key (it has no key lookup) and the function reads the values of
 * that key only — a filtered scan. The reply counts keys visited, entries (values read, non-null)
 * and their payload bytes (8 per Long, a String's UTF-16 units, a POJO's name units + 20),
 * and times the whole read (SavepointReader.read to the job's end) in this warm JVM.
 */
final class SpaReader {
    static final LongAdder KEYS = new LongAdder();
    static final LongAdder ENTRIES = new LongAdder();
    static final LongAdder BYTES = new LongAdder();

    private SpaReader() {}

    static int serve() throws Exception {
        Map<String, Object> ready = new LinkedHashMap<>();
        ready.put("event", "ready");
        ready.put("flinkVersion", EnvironmentInformation.getVersion());
        ready.put("pid", ProcessHandle.current().pid());
        Peer.emit(ready);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> resp;
            try {
                Map<String, Object> req = Json.parseObject(line);
                String cmd = Json.str(req, "cmd", "");
                switch (cmd) {
                    case "read-keyed":
                        resp = readKeyed(req);
                        break;
                    case "ping":
                        resp = new LinkedHashMap<>();
                        resp.put("ok", true);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown cmd \"" + cmd + "\" (want read-keyed, ping)");
                }
            } catch (Throwable e) {
                resp = Peer.failure("READ_FAILED", e);
            }
            Peer.emit(resp);
        }
        return 0;
    }

    static Map<String, Object> readKeyed(Map<String, Object> req) throws Exception {
        String path = Json.str(req, "path", null);
        String uid = Json.str(req, "uid", null);
        if (path == null || uid == null) {
            throw new IllegalArgumentException("read-keyed needs \"path\" and \"uid\"");
        }
        String backend = Json.str(req, "backend", "hashmap");
        int parallelism = (int) Json.lng(req, "parallelism", 1);
        Long key = req.get("key") == null ? null : Json.lng(req, "key", 0);

        Configuration conf = new Configuration();
        conf.setString("execution.runtime-mode", RuntimeExecutionMode.BATCH.name());
        conf.setString("parallelism.default", String.valueOf(parallelism));
        if (req.get("tmpDir") != null) {
            conf.setString("io.tmp.dirs", Json.str(req, "tmpDir", null));
        }
        KEYS.reset();
        ENTRIES.reset();
        BYTES.reset();
        long t0 = System.nanoTime();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        SavepointReader sp = SavepointReader.read(env, path, stateBackend(backend));
        sp.readKeyedState(OperatorIdentifier.forUid(uid), new Reader(key), Types.LONG, Types.LONG)
                .sinkTo(new DiscardingSink<>());
        JobExecutionResult res = env.execute("spa-read-" + uid);
        long wall = System.nanoTime() - t0;

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ok", true);
        r.put("flinkVersion", EnvironmentInformation.getVersion());
        r.put("backend", backend);
        r.put("parallelism", parallelism);
        r.put("keys", KEYS.sum());
        r.put("entries", ENTRIES.sum());
        r.put("valueBytes", BYTES.sum());
        r.put("wallNanos", wall);
        r.put("netRuntimeMillis", res.getNetRuntime());
        return r;
    }

    /** HashMapStateBackend, or EmbeddedRocksDBStateBackend (its package moved in 2.0). */
    static StateBackend stateBackend(String name) throws ReflectiveOperationException {
        switch (name) {
            case "hashmap":
                return new HashMapStateBackend();
            case "rocksdb":
                for (String cls : new String[] {"org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend",
                        "org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend"}) {
                    try {
                        return (StateBackend) Class.forName(cls).getConstructor().newInstance();
                    } catch (ClassNotFoundException e) {
                        // the other line's package
                    }
                }
                throw new ClassNotFoundException("EmbeddedRocksDBStateBackend");
            default:
                throw new IllegalArgumentException("backend \"" + name + "\": want hashmap or rocksdb");
        }
    }

    /** Reads ValuesJob's three value states per key (or of one key only), counting. */
    public static final class Reader extends KeyedStateReaderFunction<Long, Long> {
        private final Long only;
        private transient ValueState<Long> vLong;
        private transient ValueState<String> vString;
        private transient ValueState<StateJob.Pojo> vPojo;

        Reader(Long only) {
            this.only = only;
        }

        @Override
        public void open(OpenContext ctx) {
            init();
        }

        /** Flink 1.20's abstract open; 2.x calls open(OpenContext) only. */
        public void open(Configuration ignored) {
            init();
        }

        private void init() {
            vLong = getRuntimeContext().getState(new ValueStateDescriptor<>("v-long", Types.LONG));
            vString = getRuntimeContext().getState(new ValueStateDescriptor<>("v-string", Types.STRING));
            vPojo = getRuntimeContext().getState(new ValueStateDescriptor<>("v-pojo", Types.POJO(StateJob.Pojo.class)));
        }

        @Override
        public void readKey(Long key, Context ctx, Collector<Long> out) throws Exception {
            KEYS.increment();
            if (only != null && !only.equals(key)) {
                return;
            }
            long entries = 0;
            long bytes = 0;
            Long l = vLong.value();
            if (l != null) {
                entries++;
                bytes += 8;
            }
            String s = vString.value();
            if (s != null) {
                entries++;
                bytes += s.length();
            }
            StateJob.Pojo p = vPojo.value();
            if (p != null) {
                entries++;
                bytes += (p.name == null ? 0 : p.name.length()) + 20;
            }
            ENTRIES.add(entries);
            BYTES.add(bytes);
        }
    }
}
