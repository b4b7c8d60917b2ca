package dev.ckpt.runner;

/**
 * A record of a ckpt job: a key, a long value and an event time in milliseconds (the engine's
 * operator.Record). A POJO, so Flink serializes it with its PojoSerializer.
 */
public class Rec {
    public String key;
    public long value;
    public long time;

    public Rec() {}

    public Rec(String key, long value, long time) {
        this.key = key;
        this.value = value;
        this.time = time;
    }

    @Override
    public String toString() {
        return key + "," + value;
    }
}
