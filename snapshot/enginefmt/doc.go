// Package enginefmt is the on-disk format of the keyed state ckpt's
// embedded engine writes into checkpoints and savepoints: one codec, used
// by the engine (engine/state) to write and restore its state and by
// snapshot/state to show what a snapshot holds. Pure: bytes in, bytes
// out; no Pebble database, no I/O.
//
// A keyed operator subtask's state is a Pebble key space:
//
//	[key group: u16 big-endian][state id: u16 big-endian][user key]
//
// Map state appends [uvarint len(key)] before the key and the map key
// after it. Key group 0xFFFF (beyond every real key group) holds the
// registry: state id 0 maps a state's name to its id (2 bytes), state id
// 1 maps it to its schema (kind, key type, value type; see Schema). The
// schema entries are recent: snapshots without them read with their
// values raw ("types not recorded").
//
// A snapshot of it is either native — a chain: a base image (a Pebble
// checkpoint) plus delta tables and change logs named in ChainFile (see
// chain.go, clog.go) — or canonical: one stream per subtask with every
// key group's entries at an offset recorded in the savepoint's handle
// (the first key group's led by the schemas), its checksums in a trailer
// (canonical.go).
package enginefmt
