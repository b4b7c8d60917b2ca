package dev.ckpt.runner;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The ckpt sources (generator, file) as one FLIP-27 source: the enumerator cuts the input into
 * one split per source subtask (split i: numbers i, i+p, ...) and hands split i to subtask i; the
 * reader emits the records of its splits (SeqReader). The splits are the readers' state, so a
 * restored job resumes where the checkpoint was taken.
 */
final class SeqSource implements Source<Rec, SeqSplit, SeqSource.EnumState> {
    /** What the reader emits: generator records or file lines. */
    static final class Kind implements Serializable {
        private static final long serialVersionUID = 1L;
        String type; // "generator" or "file"
        // generator
        long keys = 1000;
        double rate;
        long limit;
        String keyPrefix = "key-";
        long stepMs = 1;
        // file
        String path;
    }

    private final Kind kind;

    SeqSource(Kind kind) {
        this.kind = kind;
    }

    @Override
    public Boundedness getBoundedness() {
        boolean bounded = kind.type.equals("file") || kind.limit > 0;
        return bounded ? Boundedness.BOUNDED : Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<Rec, SeqSplit> createReader(SourceReaderContext ctx) {
        return new SeqReader(kind);
    }

    @Override
    public SplitEnumerator<SeqSplit, EnumState> createEnumerator(SplitEnumeratorContext<SeqSplit> ctx) {
        return new Enumerator(ctx, new EnumState(false, new ArrayList<>()));
    }

    @Override
    public SplitEnumerator<SeqSplit, EnumState> restoreEnumerator(
            SplitEnumeratorContext<SeqSplit> ctx, EnumState state) {
        return new Enumerator(ctx, state);
    }

    @Override
    public SimpleVersionedSerializer<SeqSplit> getSplitSerializer() {
        return new SeqSplit.Serializer();
    }

    @Override
    public SimpleVersionedSerializer<EnumState> getEnumeratorCheckpointSerializer() {
        return new EnumStateSerializer();
    }

    /** Whether the initial splits were made, and splits handed back by failed readers. */
    static final class EnumState {
        final boolean created;
        final List<SeqSplit> unassigned;

        EnumState(boolean created, List<SeqSplit> unassigned) {
            this.created = created;
            this.unassigned = unassigned;
        }
    }

    static final class EnumStateSerializer implements SimpleVersionedSerializer<EnumState> {
        private final SeqSplit.Serializer splits = new SeqSplit.Serializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(EnumState s) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(b);
            out.writeBoolean(s.created);
            out.writeInt(s.unassigned.size());
            for (SeqSplit sp : s.unassigned) {
                byte[] x = splits.serialize(sp);
                out.writeInt(x.length);
                out.write(x);
            }
            out.flush();
            return b.toByteArray();
        }

        @Override
        public EnumState deserialize(int version, byte[] data) throws IOException {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            boolean created = in.readBoolean();
            int n = in.readInt();
            List<SeqSplit> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] x = new byte[in.readInt()];
                in.readFully(x);
                out.add(splits.deserialize(1, x));
            }
            return new EnumState(created, out);
        }
    }

    static final class Enumerator implements SplitEnumerator<SeqSplit, EnumState> {
        private final SplitEnumeratorContext<SeqSplit> ctx;
        private boolean created;
        private final List<SeqSplit> unassigned;

        Enumerator(SplitEnumeratorContext<SeqSplit> ctx, EnumState state) {
            this.ctx = ctx;
            this.created = state.created;
            this.unassigned = new ArrayList<>(state.unassigned);
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {}

        @Override
        public void addSplitsBack(List<SeqSplit> splits, int subtaskId) {
            for (SeqSplit s : splits) {
                unassigned.add(s.copy());
            }
        }

        @Override
        public void addReader(int subtaskId) {
            int p = ctx.currentParallelism();
            if (!created) {
                for (int i = 0; i < p; i++) {
                    unassigned.add(new SeqSplit(i, i, p));
                }
                created = true;
            }
            List<SeqSplit> mine = new ArrayList<>();
            for (SeqSplit s : new ArrayList<>(unassigned)) {
                if (s.index % p == subtaskId) {
                    mine.add(s);
                    unassigned.remove(s);
                }
            }
            if (!mine.isEmpty()) {
                ctx.assignSplits(new org.apache.flink.api.connector.source.SplitsAssignment<>(
                        java.util.Map.of(subtaskId, mine)));
            }
            ctx.signalNoMoreSplits(subtaskId);
        }

        @Override
        public EnumState snapshotState(long checkpointId) {
            List<SeqSplit> copy = new ArrayList<>();
            for (SeqSplit s : unassigned) {
                copy.add(s.copy());
            }
            return new EnumState(created, copy);
        }

        @Override
        public void close() {}
    }

    static Collection<SeqSplit> copies(Collection<SeqSplit> in) {
        List<SeqSplit> out = new ArrayList<>(in.size());
        for (SeqSplit s : in) {
            out.add(s.copy());
        }
        return out;
    }
}
