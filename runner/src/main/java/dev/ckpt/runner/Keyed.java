package dev.ckpt.runner;

import java.nio.ByteBuffer;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/** The keyed built-ins (engine/builtin/keyed.go), with the same state names. */
final class Keyed {
    private Keyed() {}

    /** count, sum and dedupe: one Long value state per key. */
    static final class Running extends KeyedProcessFunction<String, Rec, Rec> {
        private static final long serialVersionUID = 1L;
        private final String op;
        private transient ValueState<Long> state;

        Running(String op) {
            this.op = op;
        }

        @Override
        public void open(OpenContext ctx) {
            String name = op.equals("dedupe") ? "seen" : op; // "count", "sum"
            state = getRuntimeContext().getState(new ValueStateDescriptor<>(name, Types.LONG));
        }

        @Override
        public void processElement(Rec r, Context ctx, Collector<Rec> out) throws Exception {
            Long v = state.value();
            switch (op) {
                case "count":
                    long c = (v == null ? 0 : v) + 1;
                    state.update(c);
                    out.collect(new Rec(r.key, c, r.time));
                    return;
                case "sum":
                    long s = (v == null ? 0 : v) + r.value;
                    state.update(s);
                    out.collect(new Rec(r.key, s, r.time));
                    return;
                default: // dedupe
                    if (v == null) {
                        state.update(1L);
                        out.collect(r);
                    }
            }
        }
    }

    /**
     * window-count: records per key in tumbling event-time windows, emitted as (key, count) with
     * time = window start once the watermark passes the window's end; late records are dropped.
     * The open windows of a key are one value state "windows" of (start, count) pairs, 16
     * big-endian bytes each, as the engine keeps them; a timer per window fires it.
     */
    static final class WindowCount extends KeyedProcessFunction<String, Rec, Rec> {
        private static final long serialVersionUID = 1L;
        private final long size;
        private transient ValueState<byte[]> state;

        WindowCount(long sizeMs) {
            this.size = sizeMs;
        }

        @Override
        public void open(OpenContext ctx) {
            state = getRuntimeContext().getState(
                    new ValueStateDescriptor<>("windows", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }

        @Override
        public void processElement(Rec r, Context ctx, Collector<Rec> out) throws Exception {
            long start = r.time - (((r.time % size) + size) % size);
            if (start + size - 1 <= ctx.timerService().currentWatermark()) {
                return; // late
            }
            byte[] v = state.value();
            int n = v == null ? 0 : v.length;
            ByteBuffer b = ByteBuffer.allocate(n + 16);
            boolean found = false;
            for (int i = 0; i < n; i += 16) {
                ByteBuffer in = ByteBuffer.wrap(v, i, 16);
                long st = in.getLong(), c = in.getLong();
                if (st == start) {
                    c++;
                    found = true;
                }
                b.putLong(st).putLong(c);
            }
            if (!found) {
                b.putLong(start).putLong(1);
                ctx.timerService().registerEventTimeTimer(start + size - 1);
            }
            byte[] nv = new byte[b.position()];
            b.flip();
            b.get(nv);
            state.update(nv);
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<Rec> out) throws Exception {
            byte[] v = state.value();
            if (v == null) {
                return;
            }
            long end = ts + 1;
            ByteBuffer rest = ByteBuffer.allocate(v.length);
            for (int i = 0; i < v.length; i += 16) {
                ByteBuffer in = ByteBuffer.wrap(v, i, 16);
                long st = in.getLong(), c = in.getLong();
                if (st + size == end) {
                    out.collect(new Rec(ctx.getCurrentKey(), c, st));
                } else {
                    rest.putLong(st).putLong(c);
                }
            }
            if (rest.position() == 0) {
                state.clear();
            } else {
                byte[] nv = new byte[rest.position()];
                rest.flip();
                rest.get(nv);
                state.update(nv);
            }
        }
    }
}
