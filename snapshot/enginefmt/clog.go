package enginefmt

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// A change log is a delta in the order the changes were logged, not
// sorted (what a checkpoint writes while the engine defers ingesting its
// delta):
//
//	"ckpt-clog 1\n"
//	per write: uvarint len(key), uvarint len(value)+1 (0 for a delete),
//	           key, value
//	u64 big-endian number of writes
//	u32 big-endian CRC-32C of everything before it
//	"END\n"
//
// A key written twice keeps its last write.
const (
	LogMagic   = "ckpt-clog 1\n"
	LogTrailer = "END\n"
)

// AppendLogWrite appends one write of the key prefix+key.
func AppendLogWrite(buf, prefix, key, value []byte, set bool) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(prefix)+len(key)))
	if set {
		buf = binary.AppendUvarint(buf, uint64(len(value))+1)
	} else {
		buf = append(buf, 0)
	}
	buf = append(buf, prefix...)
	buf = append(buf, key...)
	if set {
		buf = append(buf, value...)
	}
	return buf
}

// AppendLogCount appends the number of writes (the CRC-32C of everything
// up to and including it follows, then LogTrailer).
func AppendLogCount(buf []byte, count uint64) []byte {
	return binary.BigEndian.AppendUint64(buf, count)
}

// LogError is a change log that does not read, at a byte offset.
type LogError struct {
	Offset int64
	Why    string
}

func (e *LogError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Why) }

// DecodeLog calls fn for every write of the change log raw, in order,
// after checking its header, trailer and checksum. The slices fn gets
// alias raw.
func DecodeLog(raw []byte, fn func(key, value []byte, set bool)) error {
	bad := func(off int, why string) error { return &LogError{Offset: int64(off), Why: why} }
	end := len(raw) - 12 - len(LogTrailer) // the count
	if len(raw) < len(LogMagic) || !bytes.Equal(raw[:len(LogMagic)], []byte(LogMagic)) {
		return bad(0, "no ckpt-clog header")
	}
	if end < len(LogMagic) || string(raw[end+12:]) != LogTrailer {
		return bad(len(raw), "truncated (no trailer)")
	}
	if Checksum(raw[:end+8]) != binary.BigEndian.Uint32(raw[end+8:]) {
		return bad(end+8, "checksum mismatch")
	}
	count := binary.BigEndian.Uint64(raw[end:])
	p := raw[len(LogMagic):end]
	var n uint64
	for ; len(p) > 0; n++ {
		at := end - len(p)
		kl, a := binary.Uvarint(p)
		if a <= 0 {
			return bad(at, fmt.Sprintf("write %d: bad key length", n))
		}
		vl, c := binary.Uvarint(p[a:])
		if c <= 0 {
			return bad(at, fmt.Sprintf("write %d: bad value length", n))
		}
		p = p[a+c:]
		set := vl > 0
		if set {
			vl--
		}
		if kl > uint64(len(p)) || vl > uint64(len(p))-kl {
			return bad(at, fmt.Sprintf("write %d runs past the end", n))
		}
		fn(p[:kl], p[kl:kl+vl], set)
		p = p[kl+vl:]
	}
	if n != count {
		return bad(end, fmt.Sprintf("%d writes, the trailer says %d", n, count))
	}
	return nil
}
