// Package keygroup holds Flink's key-group arithmetic: which key group a key
// hash falls into, which subtask owns a key group, and which contiguous range
// of key groups each subtask owns. The formulas match Flink's
// KeyGroupRangeAssignment so that rescaling redistributes state the way a
// Flink operator expects; only the key hash itself is ckpt's own.
package keygroup

import (
	"fmt"
	"math/bits"
)

const (
	// DefaultLowerBound is the smallest default max parallelism (Flink: 128).
	DefaultLowerBound = 1 << 7
	// UpperBound is the largest max parallelism Flink allows (32768).
	UpperBound = 1 << 15
)

// Range is an inclusive range of key groups [Start, End]. An empty range has
// End < Start.
type Range struct {
	Start, End int
}

// Len is the number of key groups in r.
func (r Range) Len() int {
	if r.End < r.Start {
		return 0
	}
	return r.End - r.Start + 1
}

// Contains reports whether kg lies in r.
func (r Range) Contains(kg int) bool { return kg >= r.Start && kg <= r.End }

// Intersect is the overlap of r and o (possibly empty).
func (r Range) Intersect(o Range) Range {
	return Range{Start: max(r.Start, o.Start), End: min(r.End, o.End)}
}

func (r Range) String() string { return fmt.Sprintf("[%d..%d]", r.Start, r.End) }

// MurmurMix is Flink's MathUtils.murmurHash(int): one murmur3 round plus the
// finaliser over a 32-bit code, folded to a non-negative int.
func MurmurMix(code int32) int32 {
	c := uint32(code)
	c *= 0xcc9e2d51
	c = bits.RotateLeft32(c, 15)
	c *= 0x1b873593
	c = bits.RotateLeft32(c, 13)
	c = c*5 + 0xe6546b64
	c ^= 4
	c ^= c >> 16
	c *= 0x85ebca6b
	c ^= c >> 13
	c *= 0xc2b2ae35
	c ^= c >> 16
	h := int32(c)
	switch {
	case h >= 0:
		return h
	case h != -1<<31:
		return -h
	default:
		return 0
	}
}

// ForHash is the key group of a key whose 32-bit hash is keyHash
// (Flink: computeKeyGroupForKeyHash).
func ForHash(keyHash int32, maxParallelism int) int {
	return int(MurmurMix(keyHash)) % maxParallelism
}

// OperatorIndex is the subtask that owns key group kg
// (Flink: computeOperatorIndexForKeyGroup).
func OperatorIndex(maxParallelism, parallelism, kg int) int {
	return kg * parallelism / maxParallelism
}

// RangeFor is the key groups subtask index owns at the given parallelism
// (Flink: computeKeyGroupRangeForOperatorIndex).
func RangeFor(maxParallelism, parallelism, index int) Range {
	start := (index*maxParallelism + parallelism - 1) / parallelism
	end := ((index+1)*maxParallelism - 1) / parallelism
	return Range{Start: start, End: end}
}

// DefaultMaxParallelism is Flink's computeDefaultMaxParallelism: the next
// power of two of p + p/2, clamped to [128, 32768].
func DefaultMaxParallelism(parallelism int) int {
	n := parallelism + parallelism/2
	p := 1
	for p < n {
		p <<= 1
	}
	return min(max(p, DefaultLowerBound), UpperBound)
}

// Check validates a parallelism / max parallelism pair.
func Check(parallelism, maxParallelism int) error {
	if parallelism < 1 {
		return fmt.Errorf("parallelism %d: must be at least 1", parallelism)
	}
	if maxParallelism < 1 || maxParallelism > UpperBound {
		return fmt.Errorf("max parallelism %d: must be between 1 and %d", maxParallelism, UpperBound)
	}
	if parallelism > maxParallelism {
		return fmt.Errorf("parallelism %d exceeds max parallelism %d", parallelism, maxParallelism)
	}
	return nil
}
