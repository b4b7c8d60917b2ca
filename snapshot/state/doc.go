// Package state reads what is inside Flink's keyed and operator state
// files, without a JVM: the serializer snapshots (decoded to a Type), the
// keyed and operator backend serialization proxies (every state's name,
// kind, serializers, TTL), and the entries of the unified full-snapshot
// format (canonical savepoints of every backend) and of the heap backend's
// checkpoint format, for the serializers whose encodings are public:
// Java primitives and boxed types, String (Flink's StringValue encoding),
// arrays, Tuple, Row, POJO, List, Map, Enum, Nullable, TTL wrappers,
// VoidNamespace, TimeWindow/GlobalWindow and timers. Kryo, Avro and
// unknown serializers are named with their raw bytes, never guessed; an
// unknown serializer snapshot class ends the reading of a proxy, because
// Flink writes its payload without a length.
//
// The formats are in ../shared/docs/flink-state-format.md; the tests use
// the byte sequences it records from real Flink 1.20 files (the proxy of a
// hashmap canonical savepoint ends at byte 505 and the operator proxy at
// 188, exactly where Flink's handles point).
//
// Every error names the file and the byte offset; counts are checked
// against the bytes left before anything is allocated.
//
// Two ways to read entries, one decoder: ReadKeyed (and ReadKey,
// ReadKeyGroup, ReadKeyedFrom) give Entry values a caller may keep;
// ScanKeyed gives each entry by pointer, valid during the callback only —
// its values live in slots reused for the next entry and its strings in
// the read buffer — so a full scan allocates nothing per value. Printing
// and counting use ScanKeyed; what must outlive the callback is Clone'd.
//
// RocksDB native savepoints and checkpoints (full and incremental) are
// read from their SST files (package sst: Flink's block-based tables,
// every block's checksum verified), merged per column family — one per
// state — with RocksDB's rules: the newest version wins, deletes hide,
// list-state merge operands join with ','.
//
// Kryo and Avro values in the heap backend's own checkpoint format
// (hashmap native savepoints and checkpoints) carry no length, so a key
// group holding one is refused (ErrUnsupported, file and offset named);
// canonical savepoints and RocksDB frame every value, and there Kryo and
// Avro values are given raw (Flink's AvroSerializer writes through its own
// encoder: 8-byte longs, length-prefixed strings — not Avro's varints).
//
// ckpt's own engine state (engine.go) is read in its format
// (snapshot/enginefmt): native chains opened with Pebble over the
// snapshot's files in place (remoteFS), deltas ingested in order as the
// engine restores them; canonical key-group streams by their offsets,
// every key group's checksum verified.
//
// Not yet here: RocksDB range deletions (left by a rescale: refused with
// ErrUnsupported), changelog state beyond its materialized part, ForSt,
// the engine's operator state (each operator's own bytes).
package state
