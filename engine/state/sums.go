package state

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
)

// SumsFile is the private file of a snapshot that records the size and
// CRC-32C of every other file in it, so that a restore verifies what it
// downloaded before opening it: Pebble checks its table blocks only when
// it reads them, and the chain file, OPTIONS and the canonical streams
// carry no checksum of their own. A snapshot without one (written before
// ckpt recorded checksums) restores unverified.
//
// Layout (text):
//
//	"ckpt-sums 1\n"
//	per file, by name: "<name> <size> <CRC-32C, 8 hex>\n"
//	"end <CRC-32C of everything before, 8 hex>\n"
//
// A CRC-32C detects every error confined to 32 consecutive bits, so any
// single flipped byte of a file, or of this file, is found.
const SumsFile = enginefmt.SumsFile

const sumsMagic = "ckpt-sums 1"

// CorruptFileError says which file of a snapshot failed verification,
// by its name in the snapshot directory (callers map it to the file's
// place in storage).
type CorruptFileError struct {
	File   string
	Reason string
}

func (e *CorruptFileError) Error() string { return "state file " + e.File + " " + e.Reason }

type fileSum struct {
	size int64
	crc  uint32
}

// Checksum is the CRC-32C (Castagnoli) of b, as ckpt records it for the
// files it writes into snapshots.
func Checksum(b []byte) uint32 { return enginefmt.Checksum(b) }

// UpdateChecksum continues Checksum over more bytes.
func UpdateChecksum(crc uint32, b []byte) uint32 { return enginefmt.UpdateChecksum(crc, b) }

// sumFile reads the file at path whole for its size and CRC-32C.
func sumFile(path string) (fileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileSum{}, err
	}
	defer f.Close()
	var s fileSum
	buf := make([]byte, 256<<10)
	for {
		n, err := f.Read(buf)
		s.crc = crc32.Update(s.crc, castagnoli, buf[:n])
		s.size += int64(n)
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return s, err
		}
	}
}

func encodeSums(sums map[string]fileSum) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString(sumsMagic + "\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s %d %08x\n", n, sums[n].size, sums[n].crc)
	}
	fmt.Fprintf(&b, "end %08x\n", Checksum(b.Bytes()))
	return b.Bytes()
}

func decodeSums(data []byte) (map[string]fileSum, error) {
	bad := func(why string) (map[string]fileSum, error) {
		return nil, &CorruptFileError{File: SumsFile, Reason: "is corrupt: " + why}
	}
	i := bytes.LastIndex(data, []byte("end "))
	if i < 0 || len(data)-i != len("end 01234567\n") || data[len(data)-1] != '\n' {
		return bad("no end line")
	}
	want, err := strconv.ParseUint(string(data[i+4:len(data)-1]), 16, 32)
	if err != nil {
		return bad("end line " + strconv.Quote(string(data[i:len(data)-1])))
	}
	if got := Checksum(data[:i]); uint32(want) != got {
		return bad(fmt.Sprintf("CRC-32C %08x, recorded %08x", got, want))
	}
	lines := strings.Split(string(data[:i]), "\n")
	if lines[0] != sumsMagic || lines[len(lines)-1] != "" {
		return bad("not a ckpt checksum file")
	}
	sums := map[string]fileSum{}
	for _, l := range lines[1 : len(lines)-1] {
		f := strings.Fields(l)
		if len(f) != 3 {
			return bad("line " + strconv.Quote(l))
		}
		size, err1 := strconv.ParseInt(f[1], 10, 64)
		crc, err2 := strconv.ParseUint(f[2], 16, 32)
		if err1 != nil || err2 != nil || size < 0 {
			return bad("line " + strconv.Quote(l))
		}
		sums[f[0]] = fileSum{size: size, crc: uint32(crc)}
	}
	return sums, nil
}

// VerifySnapshot checks the files of a snapshot directory (downloaded for
// a restore) against its SumsFile: each recorded file present with its
// size and CRC-32C, and no other file. The first failure is a
// *CorruptFileError naming the file. A directory without a SumsFile (a
// snapshot from before checksums) passes unverified.
func VerifySnapshot(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sums, err := decodeSums(data)
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		if n == SumsFile || e.IsDir() {
			continue
		}
		present[n] = true
		want, ok := sums[n]
		if !ok {
			return &CorruptFileError{File: n, Reason: "is not one the snapshot recorded a checksum for"}
		}
		got, err := sumFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		if got.size != want.size {
			return &CorruptFileError{File: n, Reason: fmt.Sprintf("has %d bytes; the snapshot recorded %d", got.size, want.size)}
		}
		if got.crc != want.crc {
			return &CorruptFileError{File: n, Reason: fmt.Sprintf("is corrupt: CRC-32C %08x, the snapshot recorded %08x", got.crc, want.crc)}
		}
	}
	for n := range sums {
		if !present[n] {
			return &CorruptFileError{File: n, Reason: "is missing from the snapshot"}
		}
	}
	return nil
}

// writeSums records the checksums of the files of a staged snapshot in its
// SumsFile. Immutable files (tables, change logs, a base image's files)
// are read once per backend: cache maps their source path to their sum,
// and the returned map keeps the entries still in use.
func writeSums(dir string, files []File, src map[string]string, cache map[string]fileSum) (map[string]fileSum, error) {
	sums := make(map[string]fileSum, len(files))
	next := make(map[string]fileSum, len(files))
	for _, f := range files {
		if f.Name == SumsFile {
			continue
		}
		from, immutable := src[f.Name]
		if s, ok := cache[from]; immutable && ok && s.size == f.Size {
			sums[f.Name], next[from] = s, s
			continue
		}
		s, err := sumFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("state: checksum of %s: %w", f.Name, err)
		}
		sums[f.Name] = s
		if immutable {
			next[from] = s
		}
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), encodeSums(sums), 0o644); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return next, nil
}

// Canonical savepoint streams keep Flink's handle and the key groups'
// bytes as they are; their checksums follow the last key group
// (snapshot/enginefmt: canonical.go).

// GroupSumsLen is the trailer's length for n key groups.
func GroupSumsLen(n int) int { return enginefmt.GroupSumsLen(n) }

// AppendGroupSums appends the trailer of a stream of streamLen bytes whose
// key groups have the checksums crcs.
func AppendGroupSums(b []byte, crcs []uint32, streamLen int64) []byte {
	return enginefmt.AppendGroupSums(b, crcs, streamLen)
}

// ParseGroupSums reads the trailer of a file of fileSize bytes holding n
// key groups (enginefmt.ParseGroupSums).
func ParseGroupSums(tail []byte, n int, fileSize int64) (crcs []uint32, streamLen int64, err error) {
	return enginefmt.ParseGroupSums(tail, n, fileSize)
}
