package dev.ckpt.peer;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * A FLIP-27 source whose splits look exactly like KafkaSource's (topic, partition, starting
 * offset, stopping offset; split serializer version 0, the same bytes as
 * KafkaPartitionSplitSerializer), without Kafka: it emits nothing, so its operator state
 * ("SourceReaderState") holds the assigned splits unchanged. Partition p of TOPIC starts at
 * offset 1000 * p + 7 and goes to subtask p % parallelism; partition 3 stops at 99_999.
 */
public final class KafkaLikeSource implements Source<Long, KafkaLikeSource.Split, List<Integer>> {
    static final String TOPIC = "orders-ß";
    static final int PARTITIONS = 5;
    static final long NO_STOP = Long.MIN_VALUE;

    /** One topic partition and where reading resumes. */
    public static final class Split implements SourceSplit {
        final String topic;
        final int partition;
        final long start;
        final long stop;

        Split(String topic, int partition, long start, long stop) {
            this.topic = topic;
            this.partition = partition;
            this.start = start;
            this.stop = stop;
        }

        @Override
        public String splitId() {
            return topic + "-" + partition;
        }
    }

    static Split split(int p) {
        return new Split(TOPIC, p, 1000L * p + 7, p == 3 ? 99_999L : NO_STOP);
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<Long, Split> createReader(SourceReaderContext ctx) {
        return new Reader();
    }

    @Override
    public SplitEnumerator<Split, List<Integer>> createEnumerator(SplitEnumeratorContext<Split> ctx) {
        return new Enumerator(ctx, new TreeSet<>());
    }

    @Override
    public SplitEnumerator<Split, List<Integer>> restoreEnumerator(SplitEnumeratorContext<Split> ctx, List<Integer> assigned) {
        return new Enumerator(ctx, new TreeSet<>(assigned));
    }

    @Override
    public SimpleVersionedSerializer<Split> getSplitSerializer() {
        return new SplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<List<Integer>> getEnumeratorCheckpointSerializer() {
        return new AssignedSerializer();
    }

    /** KafkaPartitionSplitSerializer's version 0 layout. */
    static final class SplitSerializer implements SimpleVersionedSerializer<Split> {
        @Override
        public int getVersion() {
            return 0;
        }

        @Override
        public byte[] serialize(Split s) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(b);
            out.writeUTF(s.topic);
            out.writeInt(s.partition);
            out.writeLong(s.start);
            out.writeLong(s.stop);
            out.flush();
            return b.toByteArray();
        }

        @Override
        public Split deserialize(int version, byte[] bytes) throws IOException {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            return new Split(in.readUTF(), in.readInt(), in.readLong(), in.readLong());
        }
    }

    static final class AssignedSerializer implements SimpleVersionedSerializer<List<Integer>> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(List<Integer> ps) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(b);
            out.writeInt(ps.size());
            for (int p : ps) {
                out.writeInt(p);
            }
            out.flush();
            return b.toByteArray();
        }

        @Override
        public List<Integer> deserialize(int version, byte[] bytes) throws IOException {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int n = in.readInt();
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                out.add(in.readInt());
            }
            return out;
        }
    }

    static final class Enumerator implements SplitEnumerator<Split, List<Integer>> {
        private final SplitEnumeratorContext<Split> ctx;
        private final TreeSet<Integer> assigned;

        Enumerator(SplitEnumeratorContext<Split> ctx, TreeSet<Integer> assigned) {
            this.ctx = ctx;
            this.assigned = assigned;
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtask, String host) {}

        @Override
        public void addSplitsBack(List<Split> splits, int subtask) {
            for (Split s : splits) {
                assigned.remove(s.partition);
            }
            addReader(subtask);
        }

        @Override
        public void addReader(int subtask) {
            List<Split> mine = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                if (p % ctx.currentParallelism() == subtask && !assigned.contains(p)) {
                    mine.add(split(p));
                    assigned.add(p);
                }
            }
            if (!mine.isEmpty()) {
                ctx.assignSplits(new SplitsAssignment<>(Map.of(subtask, mine)));
            }
        }

        @Override
        public List<Integer> snapshotState(long checkpointId) {
            return new ArrayList<>(assigned);
        }

        @Override
        public void close() {}
    }

    /** Holds its splits and emits nothing. */
    static final class Reader implements SourceReader<Long, Split> {
        private final List<Split> splits = new ArrayList<>();
        private final CompletableFuture<Void> never = new CompletableFuture<>();

        @Override
        public void start() {}

        @Override
        public InputStatus pollNext(ReaderOutput<Long> out) {
            return InputStatus.NOTHING_AVAILABLE;
        }

        @Override
        public List<Split> snapshotState(long checkpointId) {
            return new ArrayList<>(splits);
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return never;
        }

        @Override
        public void addSplits(List<Split> s) {
            splits.addAll(s);
        }

        @Override
        public void notifyNoMoreSplits() {}

        @Override
        public void close() {}
    }
}
