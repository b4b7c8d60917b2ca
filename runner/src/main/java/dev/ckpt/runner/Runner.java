package dev.ckpt.runner;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs a ckpt job spec on Flink: one Flink operator per pipeline step (keyBy is the partitioning
 * between two), with the step's uid, name, parallelism and max parallelism, so operator IDs are
 * the ones ckpt's engine gives the same spec.
 *
 * <p>Program arguments (ckpt submit sends them): --spec-base64 B64 (the spec as written),
 * --workdir DIR (where relative paths in the spec resolve, as `ckpt run` would from DIR),
 * --parallelism N and --max-parallelism N (the job's, as ckpt resolved them), and --conf
 * key=value for configuration given at submission (wins over the spec's config section).
 */
public final class Runner {
    private Runner() {}

    public static void main(String[] args) throws Exception {
        String specText = null, workdir = null;
        int parallelism = 0, maxParallelism = 0;
        Map<String, String> over = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("ckpt runner: " + a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--spec-base64":
                    specText = new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
                    break;
                case "--spec":
                    specText = v;
                    break;
                case "--workdir":
                    workdir = v;
                    break;
                case "--parallelism":
                    parallelism = Integer.parseInt(v);
                    break;
                case "--max-parallelism":
                    maxParallelism = Integer.parseInt(v);
                    break;
                case "--conf":
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("ckpt runner: --conf " + v + ": expected key=value");
                    }
                    over.put(v.substring(0, eq).trim(), v.substring(eq + 1).trim());
                    break;
                default:
                    throw new IllegalArgumentException("ckpt runner: unknown argument " + a
                            + " (want --spec-base64, --workdir, --parallelism, --max-parallelism, --conf)");
            }
        }
        if (specText == null) {
            throw new IllegalArgumentException("ckpt runner: no job spec (--spec-base64)");
        }
        Spec spec = Spec.parse(specText);
        Map<String, String> conf = new LinkedHashMap<>(spec.config);
        conf.putAll(over);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(Configuration.fromMap(conf));
        env.configure(Configuration.fromMap(conf), Runner.class.getClassLoader());
        int p = parallelism > 0 ? parallelism : spec.parallelism;
        if (p > 0) {
            env.setParallelism(p);
        }
        int maxP = maxParallelism > 0 ? maxParallelism : spec.maxParallelism;
        if (maxP > 0) {
            env.setMaxParallelism(maxP);
        }
        build(env, spec, workdir);
        env.execute(spec.name);
    }

    static final class KeyOf implements KeySelector<Rec, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Rec r) {
            return r.key;
        }
    }

    private static final TypeInformation<Rec> REC = TypeInformation.of(Rec.class);

    /** Adds the spec's pipeline to env. */
    static void build(StreamExecutionEnvironment env, Spec spec, String workdir) {
        DataStream<Rec> cur = null;
        KeyedStream<Rec, String> keyed = null;
        for (Spec.Step st : spec.pipeline) {
            if (!Ops.SUPPORTED.contains(st.op)) {
                throw new IllegalArgumentException("ckpt runner: " + st + ": no Flink counterpart in this runner");
            }
            SingleOutputStreamOperator<Rec> next;
            switch (st.op) {
                case "generator": {
                    SeqSource.Kind k = new SeqSource.Kind();
                    k.type = "generator";
                    k.keys = st.longOr("keys", 1000);
                    k.rate = st.doubleOr("rate", 0);
                    k.limit = st.longOr("limit", 0);
                    k.keyPrefix = st.has("keyPrefix") && !st.str("keyPrefix").isEmpty() ? st.str("keyPrefix") : "key-";
                    long ms = st.durationOr("timeStep", Duration.ZERO).toMillis();
                    k.stepMs = st.has("timeStep") ? ms : 1;
                    next = source(env, k, st.nameOr("generator"));
                    break;
                }
                case "file": {
                    SeqSource.Kind k = new SeqSource.Kind();
                    k.type = "file";
                    k.path = resolve(st.str("path"), workdir);
                    next = source(env, k, st.nameOr("file"));
                    break;
                }
                case "keyBy":
                    keyed = cur.keyBy(new KeyOf(), Types.STRING);
                    continue;
                case "map":
                    next = cur.map(Stateless.map(st.str("fn"))).returns(REC).name(st.nameOr("map:" + st.str("fn")));
                    break;
                case "filter":
                    next = cur.filter(new Stateless.Filter(st.str("keyPrefix"), st.str("keyContains"),
                            st.has("minValue"), st.longOr("minValue", 0))).name(st.nameOr("filter"));
                    break;
                case "split":
                    next = cur.flatMap(new Stateless.Split()).returns(REC).name(st.nameOr("split"));
                    break;
                case "fail": {
                    long attempts = st.longOr("attempts", 0);
                    next = cur.map(new Stateless.Fail(st.longOr("after", 0), attempts == 0 ? 1 : (int) attempts))
                            .returns(REC).name(st.nameOr("fail"));
                    break;
                }
                case "count":
                case "sum":
                case "dedupe":
                    next = keyed.process(new Keyed.Running(st.op), REC).name(st.nameOr(st.op));
                    break;
                case "window-count":
                    next = keyed.process(new Keyed.WindowCount(st.durationOr("size", Duration.ZERO).toMillis()), REC)
                            .name(st.nameOr("window-count"));
                    break;
                case "file-sink":
                    next = cur.process(new Sinks.ExactlyOnceFiles(resolve(st.str("path"), workdir)), REC)
                            .name(st.nameOr("file-sink"));
                    break;
                case "stdout":
                    next = cur.process(new Sinks.Stdout(st.str("prefix")), REC).name(st.nameOr("stdout"));
                    break;
                case "discard":
                    next = cur.process(new Sinks.Discard(), REC).name(st.nameOr("discard"));
                    break;
                default:
                    throw new IllegalArgumentException("ckpt runner: " + st + ": no Flink counterpart in this runner");
            }
            keyed = null;
            if (st.uid() != null) {
                next.uid(st.uid());
            }
            if (st.has("parallelism")) {
                next.setParallelism((int) st.longOr("parallelism", 0));
            }
            if (st.has("maxParallelism")) {
                next.setMaxParallelism((int) st.longOr("maxParallelism", 0));
            } else if (spec.maxParallelism > 0) {
                next.setMaxParallelism(spec.maxParallelism);
            }
            cur = next;
        }
    }

    private static SingleOutputStreamOperator<Rec> source(StreamExecutionEnvironment env, SeqSource.Kind k, String name) {
        WatermarkStrategy<Rec> wm = WatermarkStrategy.<Rec>forMonotonousTimestamps().withTimestampAssigner((r, ts) -> r.time);
        return env.fromSource(new SeqSource(k), wm, name, REC);
    }

    /** A relative local path in the spec resolves against the submitter's working directory. */
    static String resolve(String path, String workdir) {
        if (workdir == null || path.startsWith("/") || path.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            return path;
        }
        return workdir.replaceAll("/+$", "") + "/" + path;
    }
}
