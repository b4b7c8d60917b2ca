package dev.ckpt.runner;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * One split of a ckpt source, as the engine cuts its input: the arithmetic sequence next,
 * next+step, ... of record numbers (generator) or line numbers (file). Split i of p starts at
 * i with step p.
 */
final class SeqSplit implements SourceSplit {
    final int index;
    long next;
    final long step;

    SeqSplit(int index, long next, long step) {
        this.index = index;
        this.next = next;
        this.step = step;
    }

    @Override
    public String splitId() {
        return "split-" + index;
    }

    SeqSplit copy() {
        return new SeqSplit(index, next, step);
    }

    static final class Serializer implements SimpleVersionedSerializer<SeqSplit> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(SeqSplit s) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream(20);
            DataOutputStream out = new DataOutputStream(b);
            out.writeInt(s.index);
            out.writeLong(s.next);
            out.writeLong(s.step);
            out.flush();
            return b.toByteArray();
        }

        @Override
        public SeqSplit deserialize(int version, byte[] data) throws IOException {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            return new SeqSplit(in.readInt(), in.readLong(), in.readLong());
        }
    }
}
