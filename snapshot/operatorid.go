package snapshot

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strings"
)

// OperatorID is Flink's 16-byte operator identifier, in the byte order Flink
// prints it (logs, REST API, web UI) and writes it to `_metadata` (two
// big-endian longs, lower part first).
type OperatorID [16]byte

// String is the 32 lowercase hex digits Flink shows.
func (id OperatorID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText makes IDs print as hex in JSON and text formats.
func (id OperatorID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses 32 hex digits.
func (id *OperatorID) UnmarshalText(b []byte) error {
	v, err := ParseOperatorID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// IsZero reports whether id is all zeroes.
func (id OperatorID) IsZero() bool { return id == OperatorID{} }

// LowerPart is the first long Flink writes (bytes 0–7, big-endian).
func (id OperatorID) LowerPart() int64 { return int64(binary.BigEndian.Uint64(id[0:8])) }

// UpperPart is the second long Flink writes (bytes 8–15, big-endian).
func (id OperatorID) UpperPart() int64 { return int64(binary.BigEndian.Uint64(id[8:16])) }

// OperatorIDFromParts builds an ID from Flink's (lowerPart, upperPart) longs.
func OperatorIDFromParts(lower, upper int64) OperatorID {
	var id OperatorID
	binary.BigEndian.PutUint64(id[0:8], uint64(lower))
	binary.BigEndian.PutUint64(id[8:16], uint64(upper))
	return id
}

// ParseOperatorID parses the 32-hex-digit form (case-insensitive, surrounding
// space ignored). It is also how a `setUidHash("…")` value becomes an ID:
// Flink uses such a value literally, without hashing.
func ParseOperatorID(s string) (OperatorID, error) {
	var id OperatorID
	t := strings.TrimSpace(s)
	if len(t) != 32 {
		return id, fmt.Errorf("operator ID %q: want 32 hex digits, got %d characters", s, len(t))
	}
	if _, err := hex.Decode(id[:], []byte(t)); err != nil {
		return id, fmt.Errorf("operator ID %q: not hex: %v", s, err)
	}
	return id, nil
}

// OperatorIDFromUID is the operator ID Flink derives from a user-set uid
// (`.uid("…")`): murmur3_x64_128 with seed 0 over the UTF-8 bytes of the uid,
// nothing else hashed, output bytes h1 then h2, each little-endian
// (Guava's HashCode.asBytes order), which Flink reads as its 16 ID bytes.
func OperatorIDFromUID(uid string) OperatorID {
	return OperatorID(murmur3x64_128([]byte(uid), 0))
}

// GeneratedOperatorID reproduces Flink's ID for an operator WITHOUT a uid
// (StreamGraphHasherV2, see the format doc §7.2). position is the number of
// operators the hasher had assigned an ID before this one (breadth-first
// from the sources, sources sorted by node id); chainableOutputs is how many
// outgoing edges of this operator are chainable; inputs are the IDs of the
// operator's inputs in edge order. The result depends on the whole topology,
// so it can be reproduced but not reversed into a name.
func GeneratedOperatorID(position, chainableOutputs int, inputs ...OperatorID) OperatorID {
	return CombineGeneratedID(HashNodePosition(position, chainableOutputs), inputs...)
}

// HashNodePosition is the first step of §7.2: murmur3_128(seed 0) over the
// position as a 4-byte little-endian int (Guava putInt), repeated once more
// per chainable output edge.
func HashNodePosition(position, chainableOutputs int) OperatorID {
	if chainableOutputs < 0 {
		chainableOutputs = 0
	}
	buf := make([]byte, 0, 4*(1+chainableOutputs))
	for i := 0; i <= chainableOutputs; i++ {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(int32(position)))
	}
	return OperatorID(murmur3x64_128(buf, 0))
}

// CombineGeneratedID is the second step of §7.2: fold each input's ID into
// h with h[j] = h[j]*37 XOR input[j] (8-bit arithmetic), in input order.
func CombineGeneratedID(h OperatorID, inputs ...OperatorID) OperatorID {
	for _, in := range inputs {
		for j := range h {
			h[j] = h[j]*37 ^ in[j]
		}
	}
	return h
}

// murmur3x64_128 is MurmurHash3_x64_128 (Austin Appleby's public-domain
// algorithm) returning h1 then h2, each as 8 little-endian bytes — the byte
// order Guava's Hashing.murmur3_128().hashBytes(..).asBytes() gives.
func murmur3x64_128(data []byte, seed uint32) [16]byte {
	const (
		c1 = 0x87c37b91114253d5
		c2 = 0x4cf5ad432745937f
	)
	h1, h2 := uint64(seed), uint64(seed)
	n := len(data)
	p := data
	for len(p) >= 16 {
		k1 := binary.LittleEndian.Uint64(p[0:8])
		k2 := binary.LittleEndian.Uint64(p[8:16])
		p = p[16:]

		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
		h1 = bits.RotateLeft64(h1, 27)
		h1 += h2
		h1 = h1*5 + 0x52dce729

		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
		h2 = bits.RotateLeft64(h2, 31)
		h2 += h1
		h2 = h2*5 + 0x38495ab5
	}
	var k1, k2 uint64
	switch len(p) {
	case 15:
		k2 ^= uint64(p[14]) << 48
		fallthrough
	case 14:
		k2 ^= uint64(p[13]) << 40
		fallthrough
	case 13:
		k2 ^= uint64(p[12]) << 32
		fallthrough
	case 12:
		k2 ^= uint64(p[11]) << 24
		fallthrough
	case 11:
		k2 ^= uint64(p[10]) << 16
		fallthrough
	case 10:
		k2 ^= uint64(p[9]) << 8
		fallthrough
	case 9:
		k2 ^= uint64(p[8])
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
		fallthrough
	case 8:
		k1 ^= uint64(p[7]) << 56
		fallthrough
	case 7:
		k1 ^= uint64(p[6]) << 48
		fallthrough
	case 6:
		k1 ^= uint64(p[5]) << 40
		fallthrough
	case 5:
		k1 ^= uint64(p[4]) << 32
		fallthrough
	case 4:
		k1 ^= uint64(p[3]) << 24
		fallthrough
	case 3:
		k1 ^= uint64(p[2]) << 16
		fallthrough
	case 2:
		k1 ^= uint64(p[1]) << 8
		fallthrough
	case 1:
		k1 ^= uint64(p[0])
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
	}
	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1 = fmix64(h1)
	h2 = fmix64(h2)
	h1 += h2
	h2 += h1
	var out [16]byte
	binary.LittleEndian.PutUint64(out[0:8], h1)
	binary.LittleEndian.PutUint64(out[8:16], h2)
	return out
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}
