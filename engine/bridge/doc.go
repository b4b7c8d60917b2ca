// Package bridge moves a job spec's state between ckpt's embedded engine
// and Flink running the same spec through ckpt's runner (runner/). A
// canonical savepoint is the bridge, as it is between Flink's state
// backends: ToFlink reads an engine savepoint (canonical or native, or a
// retained chk-N) with the engine's readers and writes a new Flink
// canonical savepoint with the runner's state names, serializers and byte
// layouts, keys placed by Flink's key groups. FromFlink is the way back:
// it reads a Flink savepoint or retained checkpoint of a runner job with
// snapshot/state's readers and writes a new ckpt canonical savepoint, keys
// placed by the engine's key groups, which the engine restores (and
// rescales) as any of its own. names.go is the one list of what each
// operator keeps on either side.
//
// The source directory is only read; the destination is a new directory,
// and a failed conversion removes exactly the files it wrote there (and the
// directory, when it made it and nothing else is in it).
package bridge
