package dev.ckpt.peer;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.PluginUtils;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.executiongraph.ErrorInfo;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.state.CompletedCheckpointStorageLocation;
import org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.environment.RemoteStreamEnvironment;
import org.apache.flink.util.SerializedThrowable;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Flink peer's entry point. Test equipment only: it runs real Flink and reports
 * what Flink did, it holds no ckpt logic.
 *
 * <pre>
 * serve [--ready-file F] [--slots N] [-Dkey=value ...]
 *     MiniCluster with its REST API on 127.0.0.1 (rest.port=0: a free port). Prints
 *     "@@ckpt {"event":"ready","restUrl":...}" and then answers one JSON request per stdin
 *     line with one "@@ckpt {...}" line on stdout:
 *       {"cmd":"submit","job":{...},"waitMs":N}          submit (and maybe restore) a job, wait for RUNNING or failure
 *       {"cmd":"load-metadata","path":P,"repeat":N}       Flink's own _metadata loader, timed
 *       {"cmd":"throughput","job":{...},"warmupMs":W,"measureMs":M}
 *     Closing stdin shuts the cluster down and exits.
 * resume --job-file F [--wait-ms N] [-D...]    start, submit with the job's restore settings, print the outcome, exit 0/1
 * throughput --job-file F [--warmup-ms W] [--measure-ms M] [-D...]
 * load-metadata PATH [--repeat N]              exit 0 with a JSON summary, or 1 with a JSON error
 * spa-serve                                    Flink's State Processor API on request (SpaReader.java)
 * </pre>
 */
public final class Peer {
    static final String PREFIX = "@@ckpt ";
    private static final PrintStream OUT = System.out;

    private final MiniCluster cluster;
    private final URI restUri;
    // The cluster's REST TLS settings (security.ssl.*): the peer's own client
    // submits through the REST API, so it needs them too.
    private final Configuration restSecurity = new Configuration();

    private Peer(MiniCluster cluster, URI restUri) {
        this.cluster = cluster;
        this.restUri = restUri;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage("no mode given");
        }
        String mode = args[0];
        Args a = new Args(Arrays.copyOfRange(args, 1, args.length));
        int code;
        switch (mode) {
            case "serve":
                code = serve(a);
                break;
            case "resume":
                code = resume(a);
                break;
            case "throughput":
                code = throughputMode(a);
                break;
            case "load-metadata":
                code = loadMetadataMode(a);
                break;
            case "spa-serve":
                code = SpaReader.serve();
                break;
            default:
                usage("unknown mode \"" + mode + "\"");
                return;
        }
        OUT.flush();
        // Flink leaves non-daemon threads behind; exit explicitly.
        System.exit(code);
    }

    private static void usage(String why) {
        System.err.println("ckpt flink peer: " + why
                + "\nusage: serve|resume|throughput|load-metadata|spa-serve ... (see Peer.java)");
        System.exit(2);
    }

    // ---- modes ----

    private static int serve(Args a) throws Exception {
        long t0 = System.nanoTime();
        Peer peer = start(a);
        Map<String, Object> ready = new LinkedHashMap<>();
        ready.put("event", "ready");
        ready.put("restUrl", peer.restUri.toString());
        ready.put("flinkVersion", EnvironmentInformation.getVersion());
        ready.put("startupMillis", (System.nanoTime() - t0) / 1_000_000);
        ready.put("pid", ProcessHandle.current().pid());
        String line = Json.write(ready);
        if (a.opt("ready-file") != null) {
            Path tmp = Path.of(a.opt("ready-file") + ".tmp");
            Files.writeString(tmp, line + "\n");
            Files.move(tmp, Path.of(a.opt("ready-file")));
        }
        emit(ready);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String req;
        while ((req = in.readLine()) != null) {
            if (req.isBlank()) {
                continue;
            }
            Map<String, Object> resp;
            try {
                resp = peer.handle(Json.parseObject(req));
            } catch (Throwable e) {
                resp = failure("BAD_REQUEST", e);
            }
            emit(resp);
        }
        peer.cluster.close();
        return 0;
    }

    private static int resume(Args a) throws Exception {
        Map<String, Object> job = Json.parseObject(Files.readString(Path.of(a.required("job-file"))));
        Peer peer = start(a);
        try {
            Map<String, Object> r = peer.submit(job, a.lng("wait-ms", 120_000));
            emit(r);
            return Boolean.TRUE.equals(r.get("ok")) ? 0 : 1;
        } finally {
            peer.cluster.close();
        }
    }

    private static int throughputMode(Args a) throws Exception {
        Map<String, Object> job = Json.parseObject(Files.readString(Path.of(a.required("job-file"))));
        Peer peer = start(a);
        try {
            Map<String, Object> r = peer.throughput(job, a.lng("warmup-ms", 5_000), a.lng("measure-ms", 10_000));
            emit(r);
            return Boolean.TRUE.equals(r.get("ok")) ? 0 : 1;
        } finally {
            peer.cluster.close();
        }
    }

    private static int loadMetadataMode(Args a) {
        if (a.positional.isEmpty()) {
            usage("load-metadata needs a path");
        }
        try {
            initFileSystems(a.config());
        } catch (Exception e) {
            emit(failure("INIT_FAILED", e));
            return 1;
        }
        Map<String, Object> r = loadMetadata(a.positional.get(0), (int) a.lng("repeat", 1));
        emit(r);
        if (!Boolean.TRUE.equals(r.get("ok"))) {
            System.err.println("load-metadata failed: " + ((Map<?, ?>) r.get("error")).get("message"));
            return 1;
        }
        return 0;
    }

    // ---- the cluster ----

    /**
     * Flink's file systems, with the plugins under $FLINK_PLUGINS_DIR (the Go harness points
     * it at target/flink-VERSION/plugins: s3-fs-hadoop for s3://, s3a://), configured by
     * the -D keys (s3.endpoint, s3.path.style.access, s3.access-key, ...) as a cluster is.
     */
    private static void initFileSystems(Configuration conf) {
        FileSystem.initialize(conf, PluginUtils.createPluginManagerFromRootFolder(conf));
    }

    private static Peer start(Args a) throws Exception {
        Configuration conf = new Configuration();
        // Loopback only, a free port unless the caller picks one.
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.bind-port", "0");
        conf.setString("jobmanager.rpc.address", "127.0.0.1");
        conf.setString("taskmanager.host", "127.0.0.1");
        Configuration overrides = a.config();
        if (overrides.containsKey("rest.port") && !overrides.containsKey("rest.bind-port")) {
            conf.setString("rest.bind-port", overrides.getString("rest.port", "0"));
        }
        conf.addAll(overrides);
        initFileSystems(conf);
        MiniClusterConfiguration mc = new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager((int) a.lng("slots", 8))
                .build();
        MiniCluster cluster = new MiniCluster(mc);
        cluster.start();
        URI rest = cluster.getRestAddress().get();
        Peer peer = new Peer(cluster, rest);
        for (String k : conf.keySet()) {
            if (k.startsWith("security.ssl.")) {
                peer.restSecurity.setString(k, conf.getString(k, ""));
            }
        }
        return peer;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> handle(Map<String, Object> req) throws Exception {
        String cmd = Json.str(req, "cmd", "");
        switch (cmd) {
            case "submit":
                return submit((Map<String, Object>) req.get("job"), Json.lng(req, "waitMs", 120_000));
            case "throughput":
                return throughput((Map<String, Object>) req.get("job"),
                        Json.lng(req, "warmupMs", 5_000), Json.lng(req, "measureMs", 10_000));
            case "load-metadata":
                return loadMetadata(Json.str(req, "path", ""), (int) Json.lng(req, "repeat", 1));
            case "ping":
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("ok", true);
                return r;
            default:
                throw new IllegalArgumentException("unknown cmd \"" + cmd + "\" (want submit, throughput, load-metadata, ping)");
        }
    }

    /**
     * Submits the job through the cluster's own REST API (as any client would), then waits
     * until every task runs (state restored) or the job fails, and reports which.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Object> submit(Map<String, Object> job, long waitMs) throws Exception {
        if (job == null) {
            throw new IllegalArgumentException("submit: missing \"job\"");
        }
        JobClient client;
        try {
            // The restore settings go into the environment's constructor: the remote
            // executor rebuilds them from its configuration, and a job-level
            // execution.state-recovery.ignore-unclaimed-state did not survive that (2.3.0, 1.20.5).
            SavepointRestoreSettings restore = SavepointRestoreSettings.none();
            if (job.get("restore") instanceof Map<?, ?> m) {
                restore = restoreSettings((Map<String, Object>) m);
            }
            Configuration jobConf = PeerJob.configOf(job);
            jobConf.addAll(restSecurity);
            StreamExecutionEnvironment env = new RemoteStreamEnvironment(restUri.getHost(), restUri.getPort(),
                    jobConf, new String[0], null, restore);
            PeerJob.build(env, job);
            client = env.executeAsync(Json.str(job, "name", "peer-job"));
        } catch (Throwable e) {
            return failure("SUBMIT_FAILED", e);
        }
        return awaitRunning(client.getJobID(), waitMs);
    }

    /**
     * flink run -s PATH [-n] [--claimMode M]. The claim mode enum differs between lines
     * (RestoreMode in 1.20, RecoveryClaimMode in 2.x), hence the reflective lookup.
     */
    static SavepointRestoreSettings restoreSettings(Map<String, Object> r) throws ReflectiveOperationException {
        String path = Json.str(r, "path", null);
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("restore: missing \"path\"");
        }
        boolean allow = Json.bool(r, "allowNonRestoredState", false);
        String mode = Json.str(r, "claimMode", "");
        if (mode.isEmpty()) {
            return SavepointRestoreSettings.forPath(path, allow);
        }
        for (Method m : SavepointRestoreSettings.class.getMethods()) {
            Class<?>[] ps = m.getParameterTypes();
            if (m.getName().equals("forPath") && ps.length == 3 && ps[2].isEnum()) {
                @SuppressWarnings({"unchecked", "rawtypes"})
                Object claim = Enum.valueOf((Class<? extends Enum>) ps[2], mode);
                return (SavepointRestoreSettings) m.invoke(null, path, allow, claim);
            }
        }
        throw new IllegalStateException("this Flink has no SavepointRestoreSettings.forPath(path, allow, mode)");
    }

    private Map<String, Object> awaitRunning(JobID id, long waitMs) throws Exception {
        long deadline = System.currentTimeMillis() + waitMs;
        JobStatus status = null;
        while (System.currentTimeMillis() < deadline) {
            status = cluster.getJobStatus(id).get();
            if (status.isGloballyTerminalState()) {
                JobResult result = cluster.requestJobResult(id).get();
                Map<String, Object> r;
                Optional<SerializedThrowable> err = result.getSerializedThrowable();
                if (err.isPresent()) {
                    r = failure("JOB_" + status.name(), err.get().deserializeError(Peer.class.getClassLoader()));
                } else {
                    r = new LinkedHashMap<>();
                    r.put("ok", false);
                    r.put("error", errorOf("JOB_" + status.name(), null, "job ended " + status.name() + " without running"));
                }
                r.put("jobId", id.toHexString());
                r.put("state", status.name());
                return r;
            }
            if (status == JobStatus.RUNNING && allTasksRunning(id)) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("ok", true);
                r.put("jobId", id.toHexString());
                r.put("state", status.name());
                return r;
            }
            Thread.sleep(50);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ok", false);
        r.put("jobId", id.toHexString());
        r.put("state", status == null ? "UNKNOWN" : status.name());
        ErrorInfo last = cluster.getExecutionGraph(id).get().getFailureInfo();
        if (last != null) {
            r.put("error", chain("TIMEOUT", last.getException().deserializeError(Peer.class.getClassLoader())));
        } else {
            r.put("error", errorOf("TIMEOUT", null, "job not fully RUNNING after " + waitMs + " ms (state " + r.get("state") + ")"));
        }
        return r;
    }

    private boolean allTasksRunning(JobID id) throws Exception {
        AccessExecutionGraph g = cluster.getExecutionGraph(id).get();
        for (AccessExecutionVertex v : g.getAllExecutionVertices()) {
            ExecutionState s = v.getExecutionState();
            if (s != ExecutionState.RUNNING && s != ExecutionState.FINISHED) {
                return false;
            }
        }
        return true;
    }

    /** Runs the job, counts records over a window after a warm-up, cancels it. */
    private Map<String, Object> throughput(Map<String, Object> job, long warmupMs, long measureMs) throws Exception {
        Map<String, Object> r = submit(job, 120_000);
        if (!Boolean.TRUE.equals(r.get("ok"))) {
            return r;
        }
        JobID id = JobID.fromHexString((String) r.get("jobId"));
        try {
            Thread.sleep(warmupMs);
            long c0 = PeerJob.METER.sum();
            long t0 = System.nanoTime();
            Thread.sleep(measureMs);
            long c1 = PeerJob.METER.sum();
            long t1 = System.nanoTime();
            JobStatus st = cluster.getJobStatus(id).get();
            if (st != JobStatus.RUNNING) {
                r.put("ok", false);
                r.put("error", errorOf("JOB_" + st.name(), null, "job left RUNNING during the measurement"));
                return r;
            }
            double secs = (t1 - t0) / 1e9;
            r.put("records", c1 - c0);
            r.put("seconds", secs);
            r.put("recordsPerSecond", (c1 - c0) / secs);
            return r;
        } finally {
            cluster.cancelJob(id).get();
        }
    }

    // ---- Flink's own metadata loader ----

    static Map<String, Object> loadMetadata(String path, int repeat) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("path", path);
        try {
            ClassLoader cl = Peer.class.getClassLoader();
            List<Long> nanos = new ArrayList<>();
            CheckpointMetadata md = null;
            String pointer = null;
            for (int i = 0; i < Math.max(1, repeat); i++) {
                long t0 = System.nanoTime();
                CompletedCheckpointStorageLocation loc = AbstractFsCheckpointStorageAccess.resolveCheckpointPointer(path);
                try (InputStream raw = loc.getMetadataHandle().openInputStream();
                        DataInputStream in = new DataInputStream(raw)) {
                    md = Checkpoints.loadCheckpointMetadata(in, cl, loc.getExternalPointer());
                }
                nanos.add(System.nanoTime() - t0);
                pointer = loc.getExternalPointer();
                r.put("metadataBytes", loc.getMetadataHandle().getStateSize());
            }
            r.put("ok", true);
            r.put("externalPointer", pointer);
            r.put("checkpointId", md.getCheckpointId());
            if (md.getCheckpointProperties() != null) {
                r.put("checkpointType", md.getCheckpointProperties().getCheckpointType().getName());
                r.put("savepoint", md.getCheckpointProperties().isSavepoint());
            }
            r.put("masterStates", md.getMasterStates().size());
            List<Map<String, Object>> ops = new ArrayList<>();
            for (OperatorState os : md.getOperatorStates()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("id", os.getOperatorID().toHexString());
                optionalString(os, "getOperatorName").ifPresent(v -> o.put("name", v));
                optionalString(os, "getOperatorUid").ifPresent(v -> o.put("uid", v));
                o.put("parallelism", os.getParallelism());
                o.put("maxParallelism", os.getMaxParallelism());
                o.put("subtaskStates", os.getSubtaskStates().size());
                o.put("stateSize", os.getStateSize());
                o.put("checkpointedSize", os.getCheckpointedSize());
                o.put("coordinatorState", os.getCoordinatorState() != null);
                o.put("fullyFinished", os.isFullyFinished());
                ops.add(o);
            }
            r.put("operators", ops);
            long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            r.put("loadNanos", nanos);
            r.put("bestNanos", sorted[0]);
            r.put("medianNanos", sorted[sorted.length / 2]);
        } catch (Throwable e) {
            Map<String, Object> f = failure("LOAD_FAILED", e);
            f.put("path", path);
            return f;
        }
        return r;
    }

    /** Operator name and uid exist in the metadata only from Flink 2.0 on (format version 5). */
    private static Optional<String> optionalString(Object target, String method) {
        try {
            Method m = target.getClass().getMethod(method);
            Object v = m.invoke(target);
            if (v instanceof Optional<?> o && o.isPresent()) {
                return Optional.of(String.valueOf(o.get()));
            }
        } catch (ReflectiveOperationException e) {
            // Older Flink: not recorded.
        }
        return Optional.empty();
    }

    // ---- results ----

    static Map<String, Object> failure(String kind, Throwable e) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ok", false);
        r.put("error", chain(kind, e));
        return r;
    }

    /** kind + the exception chain as Flink threw it (outermost first), original class names kept. */
    private static Map<String, Object> chain(String kind, Throwable e) {
        List<Map<String, Object>> causes = new ArrayList<>();
        Throwable t = e;
        for (int depth = 0; t != null && depth < 32; depth++) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("class", t instanceof SerializedThrowable st ? st.getOriginalErrorClassName() : t.getClass().getName());
            c.put("message", t.getMessage());
            causes.add(c);
            if (t.getCause() == t) {
                break;
            }
            t = t.getCause();
        }
        Map<String, Object> root = causes.get(causes.size() - 1);
        Map<String, Object> err = errorOf(kind, (String) root.get("class"), (String) root.get("message"));
        err.put("chain", causes);
        return err;
    }

    private static Map<String, Object> errorOf(String kind, String cls, String message) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("kind", kind);
        if (cls != null) {
            err.put("class", cls);
        }
        err.put("message", message);
        return err;
    }

    static synchronized void emit(Map<String, Object> m) {
        OUT.println(PREFIX + Json.write(m));
        OUT.flush();
    }

    /** --name value options, -Dkey=value Flink settings, and positional arguments. */
    private static final class Args {
        final Map<String, String> opts = new HashMap<>();
        final Map<String, String> dyn = new HashMap<>();
        final List<String> positional = new ArrayList<>();

        Args(String[] args) {
            for (int i = 0; i < args.length; i++) {
                String s = args[i];
                if (s.startsWith("-D") && s.contains("=")) {
                    int eq = s.indexOf('=');
                    dyn.put(s.substring(2, eq), s.substring(eq + 1));
                } else if (s.startsWith("--")) {
                    if (i + 1 >= args.length) {
                        usage("option " + s + " needs a value");
                    }
                    opts.put(s.substring(2), args[++i]);
                } else {
                    positional.add(s);
                }
            }
        }

        String opt(String name) {
            return opts.get(name);
        }

        String required(String name) {
            String v = opts.get(name);
            if (v == null) {
                usage("--" + name + " is required");
            }
            return v;
        }

        long lng(String name, long dflt) {
            String v = opts.get(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                usage("--" + name + " wants a number, got \"" + v + "\"");
                return dflt;
            }
        }

        Configuration config() {
            return Configuration.fromMap(dyn);
        }
    }
}
