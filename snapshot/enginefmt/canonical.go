package enginefmt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A canonical savepoint stream holds, for each key group of a subtask's
// range at the offset the savepoint's handle records, entries of
//
//	uvarint len(state name) | name | uvarint len(key) | key | uvarint len(value) | value
//
// ended by a zero name length. Keys are the user part (after key group
// and state id), so the stream depends on neither state ids nor the
// database layout, and any key-group range reads back (rescaling).
//
// The first key group starts with the states' schemas, as entries of the
// reserved state SchemaState (streams from before ckpt recorded schemas
// have none).
//
// The key groups' checksums follow the last key group (CanonicalSuffix
// marks such a stream; see AppendGroupSums).

// CanonicalSuffix ends the name of a canonical stream that carries its
// key groups' checksums after them; streams written before ckpt recorded
// checksums have no suffix and are read unverified.
const CanonicalSuffix = ".kg"

// AppendField appends one field of an entry.
func AppendField(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// EndOfGroup ends a key group's entries.
const EndOfGroup = 0

// GroupError is a key group's bytes that do not read, at an offset
// within them.
type GroupError struct {
	Offset int64
	Why    string
}

func (e *GroupError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Why) }

// DecodeGroup calls fn for every entry of the key group whose bytes start
// data, up to its end mark, and returns how many bytes it took. The
// slices fn gets alias data.
func DecodeGroup(data []byte, fn func(name, key, value []byte) error) (int, error) {
	p := data
	next := func(what string) ([]byte, error) {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return nil, &GroupError{Offset: int64(len(data) - len(p)), Why: what + " runs past the end"}
		}
		v := p[k : k+int(n)]
		p = p[k+int(n):]
		return v, nil
	}
	for {
		name, err := next("state name")
		if err != nil {
			return 0, err
		}
		if len(name) == 0 {
			return len(data) - len(p), nil
		}
		key, err := next("key")
		if err != nil {
			return 0, err
		}
		val, err := next("value")
		if err != nil {
			return 0, err
		}
		if err := fn(name, key, val); err != nil {
			return 0, err
		}
	}
}

// SchemaState is the reserved state name of the schema entries a
// canonical stream carries first in its first key group: key a state's
// name, value its encoded schema (Schema.Encode). In a key group, they are
// covered by its checksum; a reader (and the engine's restore) takes them
// as schemas, not as state.
const SchemaState = "ckpt:schema"

// The key groups' checksums follow the last key group, where no reader
// looks (key groups are read from their offsets to their end mark), one
// CRC-32C per key group so that a reader of some key groups (rescaling,
// a key lookup) verifies exactly those:
//
//	stream: the key groups, streamLen bytes
//	u32 big-endian CRC-32C per key group, in the handle's order
//	u32 big-endian number of key groups
//	u64 big-endian streamLen
//	u32 big-endian CRC-32C of the trailer before it
//	"ckpt-kg1"
const groupSumsMagic = "ckpt-kg1"

// groupSumsTail is the fixed end of the trailer.
const groupSumsTail = 4 + 8 + 4 + len(groupSumsMagic)

// GroupSumsLen is the trailer's length for n key groups.
func GroupSumsLen(n int) int { return 4*n + groupSumsTail }

// AppendGroupSums appends the trailer of a stream of streamLen bytes whose
// key groups have the checksums crcs.
func AppendGroupSums(b []byte, crcs []uint32, streamLen int64) []byte {
	start := len(b)
	for _, c := range crcs {
		b = binary.BigEndian.AppendUint32(b, c)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(crcs)))
	b = binary.BigEndian.AppendUint64(b, uint64(streamLen))
	b = binary.BigEndian.AppendUint32(b, Checksum(b[start:]))
	return append(b, groupSumsMagic...)
}

// ParseGroupSums reads the trailer of a file of fileSize bytes holding n
// key groups from tail, the file's last GroupSumsLen(n) bytes (or all of
// it, if shorter), and returns the key groups' checksums and where the
// stream ends.
func ParseGroupSums(tail []byte, n int, fileSize int64) (crcs []uint32, streamLen int64, err error) {
	if len(tail) != GroupSumsLen(n) || string(tail[len(tail)-len(groupSumsMagic):]) != groupSumsMagic {
		return nil, 0, errors.New("has no ckpt key-group checksums at its end")
	}
	body := tail[:len(tail)-4-len(groupSumsMagic)]
	if got, want := Checksum(body), binary.BigEndian.Uint32(tail[len(body):]); got != want {
		return nil, 0, fmt.Errorf("is corrupt in its key-group checksums: CRC-32C %08x, recorded %08x", got, want)
	}
	if got := binary.BigEndian.Uint32(body[4*n:]); int(got) != n {
		return nil, 0, fmt.Errorf("has checksums of %d key groups; the handle has %d", got, n)
	}
	streamLen = int64(binary.BigEndian.Uint64(body[4*n+4:]))
	if streamLen+int64(len(tail)) != fileSize {
		return nil, 0, fmt.Errorf("has %d bytes; %d were written", fileSize, streamLen+int64(len(tail)))
	}
	crcs = make([]uint32, n)
	for i := range crcs {
		crcs[i] = binary.BigEndian.Uint32(body[4*i:])
	}
	return crcs, streamLen, nil
}
