package enginefmt

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// MetaNative is the meta stream of a native snapshot's incremental
// handle: what marks the handle's files as the engine's (not RocksDB's).
const MetaNative = "ckpt-pebble-v2"

// IsMeta reports whether a meta stream is the engine's.
func IsMeta(b []byte) bool { return bytes.HasPrefix(b, []byte("ckpt-pebble-")) }

// ChainFile is the private file of a native snapshot that names its delta
// tables and change logs in order. A snapshot without one is a plain
// Pebble checkpoint (what ckpt wrote before chains).
const ChainFile = "CKPT-CHAIN"

// SumsFile is the private file of a native snapshot with the size and
// CRC-32C of every other file in it.
const SumsFile = "CKPT-SUMS"

const (
	chainMagic  = "ckpt-chain 1"
	deltaPrefix = "delta-"
	// DeltaSuffix ends a delta table's name, LogSuffix a change log's.
	DeltaSuffix = ".sst"
	LogSuffix   = ".clog"
)

// DeltaName names delta seq: a table, or a change log.
func DeltaName(seq uint64, log bool) string {
	suffix := DeltaSuffix
	if log {
		suffix = LogSuffix
	}
	return fmt.Sprintf("%s%020d%s", deltaPrefix, seq, suffix)
}

// IsLog reports whether a file name is a change log's.
func IsLog(name string) bool { return path.Ext(name) == LogSuffix }

// ParseDeltaName reads the sequence number of a delta's name.
func ParseDeltaName(n string) (uint64, bool) {
	suffix := DeltaSuffix
	if IsLog(n) {
		suffix = LogSuffix
	}
	if !strings.HasPrefix(n, deltaPrefix) || !strings.HasSuffix(n, suffix) {
		return 0, false
	}
	seq, err := strconv.ParseUint(n[len(deltaPrefix):len(n)-len(suffix)], 10, 64)
	return seq, err == nil && seq > 0
}

// Delta is one link of a chain after the base.
type Delta struct {
	Name string
	Seq  uint64
}

// EncodeChain is the chain file naming deltas in order.
func EncodeChain(deltas []string) []byte {
	var b bytes.Buffer
	b.WriteString(chainMagic + "\n")
	for _, d := range deltas {
		b.WriteString(d + "\n")
	}
	return b.Bytes()
}

// ChainError is a chain file that does not parse, at a line.
type ChainError struct {
	Line int // 0: the file as a whole
	Msg  string
}

func (e *ChainError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// ParseChain reads a chain file: its deltas in order (ascending
// sequence numbers).
func ParseChain(data []byte) ([]Delta, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	var out []Delta
	for sc.Scan() {
		line++
		t := sc.Text()
		if line == 1 {
			if t != chainMagic {
				return nil, &ChainError{1, fmt.Sprintf("%q is not a ckpt chain file (want %q)", t, chainMagic)}
			}
			continue
		}
		seq, ok := ParseDeltaName(t)
		if !ok {
			return nil, &ChainError{line, fmt.Sprintf("%q is not a delta table name", t)}
		}
		if len(out) > 0 && seq <= out[len(out)-1].Seq {
			return nil, &ChainError{line, fmt.Sprintf("delta %s is out of order", t)}
		}
		out = append(out, Delta{Name: t, Seq: seq})
	}
	if err := sc.Err(); err != nil {
		return nil, &ChainError{line + 1, err.Error()}
	}
	if line == 0 {
		return nil, &ChainError{0, "is empty"}
	}
	return out, nil
}
