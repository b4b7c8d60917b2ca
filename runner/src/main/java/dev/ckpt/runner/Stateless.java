package dev.ckpt.runner;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.util.Collector;

/** The stateless built-ins: map, filter, split, fail (engine/builtin). */
final class Stateless {
    private Stateless() {}

    static MapFunction<Rec, Rec> map(String fn) {
        switch (fn) {
            case "upper":
                return r -> new Rec(r.key.toUpperCase(Locale.ROOT), r.value, r.time);
            case "lower":
                return r -> new Rec(r.key.toLowerCase(Locale.ROOT), r.value, r.time);
            case "length":
                return r -> new Rec(r.key, r.key.getBytes(StandardCharsets.UTF_8).length, r.time);
            case "value-one":
                return r -> new Rec(r.key, 1, r.time);
            default:
                throw new IllegalArgumentException("unknown map function \"" + fn + "\" (have: upper, lower, length, value-one)");
        }
    }

    static final class Filter implements FilterFunction<Rec> {
        private static final long serialVersionUID = 1L;
        final String prefix, contains;
        final boolean hasMin;
        final long min;

        Filter(String prefix, String contains, boolean hasMin, long min) {
            this.prefix = prefix;
            this.contains = contains;
            this.hasMin = hasMin;
            this.min = min;
        }

        @Override
        public boolean filter(Rec r) {
            return r.key.startsWith(prefix) && r.key.contains(contains) && (!hasMin || r.value >= min);
        }
    }

    /** One record per whitespace-separated word, lower-cased and stripped of punctuation. */
    static final class Split implements FlatMapFunction<Rec, Rec> {
        private static final long serialVersionUID = 1L;

        @Override
        public void flatMap(Rec r, Collector<Rec> out) {
            String k = r.key;
            int i = 0, n = k.length();
            while (i < n) {
                while (i < n && isSpace(k.codePointAt(i))) {
                    i += Character.charCount(k.codePointAt(i));
                }
                int s = i;
                while (i < n && !isSpace(k.codePointAt(i))) {
                    i += Character.charCount(k.codePointAt(i));
                }
                if (s < i) {
                    String w = trim(k.substring(s, i)).toLowerCase(Locale.ROOT);
                    if (!w.isEmpty()) {
                        out.collect(new Rec(w, 1, r.time));
                    }
                }
            }
        }

        // Go's unicode.IsSpace.
        private static boolean isSpace(int c) {
            return (c >= 9 && c <= 13) || c == ' ' || c == 0x85 || c == 0xA0
                    || (c > 0xFF && Character.getType(c) == Character.SPACE_SEPARATOR)
                    || c == 0x2028 || c == 0x2029;
        }

        private static boolean keep(int c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c > 127;
        }

        private static String trim(String w) {
            int s = 0, e = w.length();
            while (s < e && !keep(w.codePointAt(s))) {
                s += Character.charCount(w.codePointAt(s));
            }
            while (e > s && !keep(w.codePointBefore(e))) {
                e -= Character.charCount(w.codePointBefore(e));
            }
            return w.substring(s, e);
        }
    }

    /** Fault injection: fails when it has seen after records, in attempts below attempts. */
    static final class Fail extends RichMapFunction<Rec, Rec> {
        private static final long serialVersionUID = 1L;
        final long after;
        final int attempts;
        private transient long n;
        private transient int attempt;

        Fail(long after, int attempts) {
            this.after = after;
            this.attempts = attempts;
        }

        @Override
        public void open(OpenContext ctx) {
            attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        }

        @Override
        public Rec map(Rec r) {
            n++;
            if (attempt < attempts && n == after) {
                throw new RuntimeException("injected failure after " + n + " records (attempt " + attempt + ")");
            }
            return r;
        }
    }
}
