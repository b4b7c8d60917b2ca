// Package snapshot is the on-disk format of checkpoints and savepoints: the
// `_metadata` codec (read and write, byte-compatible with Apache Flink),
// operator IDs from uids, and the directory layout (<dir>/<job-id>/chk-N,
// shared/, taskowned/, savepoint-xxxxxx-yyyyyyyyyyyy).
//
// The format is described in ../shared/docs/flink-metadata-format.md; the
// numbers below were checked against the real flink-runtime jars.
//
// # Data model
//
// A Metadata holds the checkpoint id, master states, one OperatorState per
// operator (in file order) and, for V4+, the raw Java-serialized
// CheckpointProperties trailer (Metadata.Trailer; Metadata.Properties parses
// it). Each OperatorState holds SubtaskStates; each SubtaskState holds at
// most one handle per slot (managed/raw operator state, managed/raw keyed
// state) plus channel state. Handles are Go types per Flink handle kind
// (see Tag); a slot holds an interface (StreamHandle, KeyedHandle,
// OperatorHandle) and nil means "no handle" (Flink's NULL tag).
//
// Decoding keeps every detail needed to re-encode the same bytes, so
// Decode followed by Encode is byte-identical for every file Flink writes.
// Strings are Go strings holding the decoded text; Java's modified UTF-8
// quirks (NUL as C0 80, supplementary characters as surrogate pairs, lone
// surrogates) are mapped so that the encoder reproduces the input exactly
// (see mutf8.go).
//
// # What a writer should emit ("what Flink 2.x writes today")
//
// Flink 2.0 writes format version 5; Flink 2.1, 2.2 and 2.3 write version 6
// (checked in the bytecode of flink-runtime's Checkpoints.storeCheckpointMetadata
// for each release); version 7 exists only on apache/flink master. A writer
// that wants real Flink 2.x to load its files should use:
//
//   - Version: VersionWrite (6). Every operator carries Name and UID.
//   - Keyed state of a checkpoint of an incremental backend: an
//     IncrementalHandle (tag 11; NewIncrementalHandle) whose shared files are
//     absolute FileHandles (tag 2) under <job-dir>/shared/ and whose private
//     files and meta-data stream are RelativeFileHandles (tag 6) inside chk-N/.
//   - Keyed state of a full (non-incremental) checkpoint: KeyGroupsHandle
//     with Variant TagKeyGroupsV2 (tag 12, NewKeyGroupsHandle), one offset per key group.
//   - Keyed state of a canonical savepoint: KeyGroupsHandle with Variant
//     TagSavepointKeyGroups (tag 7, NewSavepointKeyGroupsHandle) over a
//     RelativeFileHandle. A native savepoint uses IncrementalHandle with every
//     file relative (copied into the savepoint dir).
//   - Operator (non-keyed) state: OperatorStreamHandle (tag 4,
//     NewOperatorStreamHandle), e.g. source offsets as SPLIT_DISTRIBUTE state.
//   - Small streams (below Flink's 20 KB memory threshold): ByteStreamHandle
//     (tag 1, inline). Files inside the snapshot's own directory:
//     RelativeFileHandle (tag 6). Files elsewhere (shared/, taskowned/):
//     FileHandle (tag 2) with an absolute URI such as file:/… or hdfs://….
//   - Trailer: CheckpointProperties(...) or SavepointProperties(...) encoded with
//     Properties.Encode and stored in Metadata.Trailer (Metadata.SetProperties).
//   - Never emit the legacy tags 3, 5, 8, 10 (readers accept them).
package snapshot
