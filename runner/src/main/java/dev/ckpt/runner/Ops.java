package dev.ckpt.runner;

import java.util.List;

/** The job spec operators this runner has a Flink counterpart for. */
final class Ops {
    private Ops() {}

    // The Go side refuses a spec naming anything else before it uploads the jar;
    // runner/ops_test.go checks this list against its own (keep both sorted).
    // BEGIN SUPPORTED OPS
    static final List<String> SUPPORTED = List.of(
            "count",
            "dedupe",
            "discard",
            "fail",
            "file",
            "file-sink",
            "filter",
            "generator",
            "keyBy",
            "map",
            "split",
            "stdout",
            "sum",
            "window-count");
    // END SUPPORTED OPS
}
