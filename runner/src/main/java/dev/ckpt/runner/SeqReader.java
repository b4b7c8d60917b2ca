package dev.ckpt.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.InputStatus;

/**
 * Emits the records of its splits, as the engine's Generator and FileLines do: generator record
 * n is (keyPrefix + n mod keys, 1, n·stepMs), round-robin over the live splits; file line n is
 * (line, 1, n). The rate is records per second over all source subtasks.
 */
final class SeqReader implements SourceReader<Rec, SeqSplit> {
    private static final int BATCH = 256;

    private final SeqSource.Kind kind;
    private final List<SeqSplit> splits = new ArrayList<>();
    private boolean noMoreSplits;
    private int rr;
    private long start;
    private long sent;
    private double perSubtask;
    // file
    private BufferedReader file;
    private long line;
    private boolean eof;

    SeqReader(SeqSource.Kind kind) {
        this.kind = kind;
    }

    @Override
    public void start() {
        start = System.nanoTime();
    }

    private boolean done(SeqSplit s) {
        return kind.limit > 0 && s.next >= kind.limit;
    }

    @Override
    public InputStatus pollNext(ReaderOutput<Rec> out) throws Exception {
        if (splits.isEmpty()) {
            if (noMoreSplits && (kind.type.equals("file") || kind.limit > 0)) {
                return InputStatus.END_OF_INPUT;
            }
            Thread.sleep(20); // waiting for splits, or unbounded with none: idle
            return InputStatus.NOTHING_AVAILABLE;
        }
        return kind.type.equals("file") ? pollFile(out) : pollGenerator(out);
    }

    private InputStatus pollGenerator(ReaderOutput<Rec> out) throws InterruptedException {
        int live = 0;
        for (SeqSplit s : splits) {
            if (!done(s)) {
                live++;
            }
        }
        if (live == 0) {
            return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
        }
        int n = BATCH;
        if (kind.rate > 0) {
            if (perSubtask == 0) {
                perSubtask = kind.rate / Math.max(1, splits.get(0).step);
            }
            long allowed = (long) (perSubtask * ((System.nanoTime() - start) / 1e9)) - sent;
            if (allowed <= 0) {
                Thread.sleep(Math.max(1, Math.min(20, (long) (1000 / perSubtask))));
                return InputStatus.MORE_AVAILABLE;
            }
            n = (int) Math.min(n, allowed);
        }
        for (int i = 0; i < n; i++) {
            while (done(splits.get(rr))) {
                rr = (rr + 1) % splits.size();
            }
            SeqSplit s = splits.get(rr);
            long k = s.next % kind.keys;
            long t = s.next * kind.stepMs;
            out.collect(new Rec(kind.keyPrefix + k, 1, t), t);
            s.next += s.step;
            sent++;
            rr = (rr + 1) % splits.size();
            if (done(s) && --live == 0) {
                return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
            }
        }
        return InputStatus.MORE_AVAILABLE;
    }

    private InputStatus pollFile(ReaderOutput<Rec> out) throws IOException {
        if (eof) {
            return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
        }
        if (file == null) {
            Path p = new Path(kind.path);
            FileSystem fs = p.getFileSystem();
            file = new BufferedReader(new InputStreamReader(fs.open(p), StandardCharsets.UTF_8));
        }
        for (int emitted = 0; emitted < BATCH; ) {
            String l = file.readLine();
            if (l == null) {
                eof = true;
                file.close();
                return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
            }
            long n = line++;
            for (SeqSplit s : splits) {
                if (n == s.next) {
                    out.collect(new Rec(l, 1, n), n);
                    s.next += s.step;
                    emitted++;
                    break;
                }
            }
        }
        return InputStatus.MORE_AVAILABLE;
    }

    @Override
    public List<SeqSplit> snapshotState(long checkpointId) {
        return new ArrayList<>(SeqSource.copies(splits));
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void addSplits(List<SeqSplit> in) {
        splits.addAll(in);
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
    }

    @Override
    public void close() throws Exception {
        if (file != null) {
            file.close();
        }
    }
}
