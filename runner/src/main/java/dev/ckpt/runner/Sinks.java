package dev.ckpt.runner;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/** The sinks (engine/builtin/sinks.go): exactly-once files, stdout, discard. */
final class Sinks {
    private Sinks() {}

    /** stdout: "prefix key,value" lines (at-least-once, as on the engine). */
    static final class Stdout extends ProcessFunction<Rec, Rec> {
        private static final long serialVersionUID = 1L;
        private final String prefix;

        Stdout(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public void processElement(Rec r, Context ctx, Collector<Rec> out) {
            System.out.print(prefix + r.key + "," + r.value + "\n");
        }
    }

    /** discard: drops every record. */
    static final class Discard extends ProcessFunction<Rec, Rec> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(Rec r, Context ctx, Collector<Rec> out) {}
    }

    /**
     * file-sink: "key,value" lines in a directory, exactly once, by two-phase commit on
     * checkpoints, with the engine's files and names: records go to a hidden in-progress file
     * ".part-SUBTASK-TOKEN-N.inprogress"; a checkpoint's snapshot closes and syncs it and records
     * it as pending (pre-commit); when the checkpoint completes it is renamed to
     * "part-SUBTASK-CHECKPOINT-TOKEN" (commit). The pending list is union list state: on restore
     * every subtask commits what was pending (a rename already done is recognised) and removes
     * the in-progress files its subtask wrote after the restored checkpoint.
     */
    static final class ExactlyOnceFiles extends ProcessFunction<Rec, Rec>
            implements CheckpointedFunction, CheckpointListener {
        private static final long serialVersionUID = 1L;
        private static final Pattern ENTRY = Pattern.compile(
                "\\{\"chk\":(-?\\d+),\"inprogress\":\"([^\"]*)\",\"final\":\"([^\"]*)\"\\}");
        private static final Pattern IN_PROGRESS = Pattern.compile("^\\.part-(\\d+)-.*\\.inprogress$");

        private final String dir;
        private transient Path base;
        private transient FileSystem fs;
        private transient ListState<byte[]> pendingState;
        private transient List<Pending> pending;
        private transient String token;
        private transient int subtask;
        private transient int seq;
        private transient FSDataOutputStream cur;
        private transient BufferedWriter w;
        private transient String curName;

        ExactlyOnceFiles(String dir) {
            this.dir = dir;
        }

        static final class Pending {
            final long chk;
            final String inProgress, fin;

            Pending(long chk, String inProgress, String fin) {
                this.chk = chk;
                this.inProgress = inProgress;
                this.fin = fin;
            }

            byte[] encode() {
                return ("{\"chk\":" + chk + ",\"inprogress\":\"" + inProgress + "\",\"final\":\"" + fin + "\"}")
                        .getBytes(StandardCharsets.UTF_8);
            }

            static Pending decode(byte[] b) {
                Matcher m = ENTRY.matcher(new String(b, StandardCharsets.UTF_8).replace(" ", ""));
                if (!m.matches()) {
                    throw new IllegalStateException("file sink: corrupt pending state: " + new String(b, StandardCharsets.UTF_8));
                }
                return new Pending(Long.parseLong(m.group(1)), m.group(2), m.group(3));
            }
        }

        @Override
        public void initializeState(FunctionInitializationContext ctx) throws Exception {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
            base = new Path(dir);
            fs = base.getFileSystem();
            if (fs.exists(base) && !fs.getFileStatus(base).isDir()) {
                throw new IOException("file sink: path " + dir + " is a file, not a directory");
            }
            fs.mkdirs(base);
            byte[] t = new byte[6];
            new SecureRandom().nextBytes(t);
            token = HexFormat.of().formatHex(t);
            pending = new ArrayList<>();
            pendingState = ctx.getOperatorStateStore().getUnionListState(
                    new ListStateDescriptor<>("pending", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
            if (!ctx.isRestored()) {
                return;
            }
            Set<String> keep = new HashSet<>();
            for (byte[] e : pendingState.get()) {
                Pending p = Pending.decode(e);
                commit(p);
                keep.add(p.inProgress);
            }
            // Whatever else this subtask left in progress was written after the restored
            // checkpoint: it will be produced again.
            FileStatus[] ents = fs.listStatus(base);
            if (ents == null) {
                return;
            }
            for (FileStatus st : ents) {
                String n = st.getPath().getName();
                Matcher m = IN_PROGRESS.matcher(n);
                if (st.isDir() || !m.matches() || keep.contains(n)) {
                    continue;
                }
                int owner = Integer.parseInt(m.group(1));
                if (owner == subtask || (subtask == 0 && owner >= parallelism)) {
                    fs.delete(new Path(base, n), false);
                }
            }
        }

        private void commit(Pending p) throws IOException {
            Path from = new Path(base, p.inProgress), to = new Path(base, p.fin);
            if (fs.exists(from)) {
                if (!fs.rename(from, to)) {
                    throw new IOException("file sink: commit " + p.fin + ": rename failed");
                }
                return;
            }
            if (fs.exists(to)) {
                return; // committed before the failure
            }
            throw new IOException("file sink: pending file " + p.inProgress + " of checkpoint " + p.chk
                    + " is gone and was never committed: output lost");
        }

        @Override
        public void processElement(Rec r, Context ctx, Collector<Rec> out) throws IOException {
            if (cur == null) {
                seq++;
                curName = ".part-" + subtask + "-" + token + "-" + seq + ".inprogress";
                cur = fs.create(new Path(base, curName), FileSystem.WriteMode.NO_OVERWRITE);
                w = new BufferedWriter(new OutputStreamWriter(cur, StandardCharsets.UTF_8), 64 << 10);
            }
            w.write(r.key);
            w.write(',');
            w.write(Long.toString(r.value));
            w.write('\n');
        }

        @Override
        public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
            long id = ctx.getCheckpointId();
            if (cur != null) {
                w.flush();
                cur.sync();
                w.close();
                cur = null;
                w = null;
                pending.add(new Pending(id, curName, "part-" + subtask + "-" + id + "-" + token));
            }
            pendingState.clear();
            for (Pending p : pending) {
                pendingState.add(p.encode());
            }
        }

        @Override
        public void notifyCheckpointComplete(long id) throws Exception {
            Iterator<Pending> it = pending.iterator();
            while (it.hasNext()) {
                Pending p = it.next();
                if (p.chk <= id) {
                    commit(p);
                    it.remove();
                }
            }
        }

        @Override
        public void close() throws Exception {
            if (w != null) {
                w.flush();
                w.close();
                cur = null;
                w = null;
            }
        }
    }
}
