package dev.ckpt.runner;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.util.TimeUtils;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A ckpt job spec as the runner needs it: name, pipeline steps and the config section. ckpt
 * validated the spec before sending it (engine/spec), so this only reads it; anything it cannot
 * read is still an error naming the step.
 */
final class Spec {
    String name;
    int parallelism;
    int maxParallelism;
    final Map<String, String> config = new LinkedHashMap<>();
    final List<Step> pipeline = new ArrayList<>();

    static final class Step {
        final int index; // 1-based, as ckpt numbers steps
        final String op;
        final Map<String, Object> fields;

        Step(int index, String op, Map<String, Object> fields) {
            this.index = index;
            this.op = op;
            this.fields = fields;
        }

        boolean has(String k) {
            return fields.get(k) != null;
        }

        String str(String k) {
            Object v = fields.get(k);
            return v == null ? "" : String.valueOf(v);
        }

        long longOr(String k, long def) {
            return has(k) ? Long.parseLong(str(k).trim()) : def;
        }

        double doubleOr(String k, double def) {
            return has(k) ? Double.parseDouble(str(k).trim()) : def;
        }

        Duration durationOr(String k, Duration def) {
            return has(k) ? TimeUtils.parseDuration(str(k)) : def;
        }

        String uid() {
            return has("uid") ? str("uid") : null;
        }

        String nameOr(String def) {
            return has("name") ? str("name") : def;
        }

        @Override
        public String toString() {
            return "step " + index + " (" + op + ")";
        }
    }

    @SuppressWarnings("unchecked")
    static Spec parse(String text) {
        Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        if (!(doc instanceof Map)) {
            throw new IllegalArgumentException("job spec: not a map with name and pipeline");
        }
        Map<String, Object> root = (Map<String, Object>) doc;
        Spec s = new Spec();
        s.name = String.valueOf(root.getOrDefault("name", "ckpt-job"));
        s.parallelism = intOf(root.get("parallelism"));
        s.maxParallelism = intOf(root.get("maxParallelism"));
        Object cfg = root.get("config");
        if (cfg instanceof Map) {
            flatten("", (Map<String, Object>) cfg, s.config);
        }
        Object p = root.get("pipeline");
        if (!(p instanceof List) || ((List<?>) p).isEmpty()) {
            throw new IllegalArgumentException("job spec: missing or empty pipeline");
        }
        int i = 0;
        for (Object o : (List<Object>) p) {
            i++;
            if (!(o instanceof Map)) {
                throw new IllegalArgumentException("job spec: step " + i + ": not a map with an op");
            }
            Map<String, Object> m = (Map<String, Object>) o;
            s.pipeline.add(new Step(i, String.valueOf(m.get("op")), m));
        }
        return s;
    }

    /** Nested config maps become dotted Flink keys, as ckpt reads them. */
    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Map<String, Object> m, Map<String, String> out) {
        for (Map.Entry<String, Object> e : m.entrySet()) {
            String k = prefix + e.getKey();
            if (e.getValue() instanceof Map) {
                flatten(k + ".", (Map<String, Object>) e.getValue(), out);
            } else if (e.getValue() instanceof List) {
                List<String> parts = new ArrayList<>();
                for (Object x : (List<Object>) e.getValue()) {
                    parts.add(String.valueOf(x));
                }
                out.put(k, String.join(";", parts));
            } else if (e.getValue() != null) {
                out.put(k, String.valueOf(e.getValue()));
            }
        }
    }

    private static int intOf(Object o) {
        return o == null ? 0 : Integer.parseInt(String.valueOf(o).trim());
    }
}
