package sst

import (
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Block compressions (RocksDB CompressionType, the byte after a block).
// Flink selects them per level with state.backend.rocksdb.compression.per.level
// (org.rocksdb.CompressionType names: SNAPPY_COMPRESSION, the default, …).
const (
	compressionNone   = 0
	compressionSnappy = 1
	compressionZlib   = 2
	compressionBZip2  = 3
	compressionLZ4    = 4
	compressionLZ4HC  = 5
	compressionXpress = 6
	compressionZSTD   = 7
)

// Compression names of a block trailer's type byte.
var compressionNames = map[byte]string{compressionNone: "none", compressionSnappy: "Snappy", compressionZlib: "Zlib",
	compressionBZip2: "BZip2", compressionLZ4: "LZ4", compressionLZ4HC: "LZ4HC", compressionXpress: "Xpress", compressionZSTD: "ZSTD",
	0x40: "ZSTDNotFinal"}

// CompressionName names a block compression type.
func CompressionName(typ byte) string {
	if n := compressionNames[typ]; n != "" {
		return n
	}
	return fmt.Sprintf("type %d", typ)
}

// decompress decodes one block's bytes as RocksDB compressed them at
// compress_format_version 2 (every table format_version ≥ 2, so every
// table of Flink's): Snappy in its own format; Zlib, BZip2, LZ4, LZ4HC and
// ZSTD behind a varint32 of the decompressed size — Zlib as raw deflate
// (RocksDB's default window_bits −14), BZip2 as a bzip2 stream, LZ4 and
// LZ4HC as one LZ4 block, ZSTD as one zstd frame. The decoded length must
// be the one declared; no buffer grows past what the input can expand to.
func decompress(typ byte, data []byte) ([]byte, error) {
	switch typ {
	case compressionNone:
		return data, nil
	case compressionSnappy:
		n, err := snappy.DecodedLen(data)
		// Snappy expands at most ~21× (a 3-byte copy of 64 bytes): a
		// longer claim is corrupt, not an allocation to make.
		if err != nil || n > maxUncompress || n > 32*len(data)+64 {
			return nil, fmt.Errorf("%w: Snappy length %d: %v", ErrCorrupt, n, err)
		}
		out, err := snappy.Decode(nil, data)
		if err != nil {
			return nil, fmt.Errorf("%w: Snappy: %v", ErrCorrupt, err)
		}
		return out, nil
	case compressionZlib, compressionBZip2, compressionLZ4, compressionLZ4HC, compressionZSTD:
	case compressionXpress:
		return nil, fmt.Errorf("%w: compressed with Xpress, which RocksDB builds only on Windows (FRocksDB for Linux, as Flink ships it, cannot write it) and no Go decoder reads", ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: compressed with %s (this reader decodes none, Snappy, LZ4, LZ4HC, ZSTD, Zlib and BZip2)", ErrUnsupported, CompressionName(typ))
	}
	name := CompressionName(typ)
	size, l := binary.Uvarint(data)
	if l <= 0 || l > 5 || size > 0xFFFFFFFF {
		return nil, fmt.Errorf("%w: %s block without its decompressed size (varint32)", ErrCorrupt, name)
	}
	n, body := int(size), data[l:]
	if n > maxUncompress {
		return nil, fmt.Errorf("%w: %s block claims %d decompressed bytes", ErrCorrupt, name, n)
	}
	var out []byte
	var err error
	switch typ {
	case compressionLZ4, compressionLZ4HC:
		// One LZ4 sequence expands at most 255× (and a block ends in
		// literals): a larger claim is corrupt.
		if n > 255*len(body)+64 {
			return nil, fmt.Errorf("%w: %s block claims %d decompressed bytes from %d", ErrCorrupt, name, n, len(body))
		}
		out = make([]byte, n)
		var m int
		m, err = lz4.UncompressBlock(body, out)
		if err == nil && m != n {
			err = fmt.Errorf("%d bytes", m)
		}
	case compressionZSTD:
		var dec *zstd.Decoder
		if dec, err = zstdDecoder(); err == nil {
			out, err = dec.DecodeAll(body, make([]byte, 0, min(n, 64*len(body)+4096)))
		}
	case compressionZlib:
		out, err = readAtMost(flate.NewReader(bytes.NewReader(body)), n, len(body))
	case compressionBZip2:
		out, err = readAtMost(bzip2.NewReader(bytes.NewReader(body)), n, len(body))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: %s block decodes to %d bytes, its header says %d", ErrCorrupt, name, len(out), n)
	}
	return out, nil
}

// readAtMost reads r to its end, refusing more than n bytes; the buffer
// starts at what in compressed bytes can plausibly make and grows only
// with what r really yields.
func readAtMost(r io.Reader, n, in int) ([]byte, error) {
	b := bytes.NewBuffer(make([]byte, 0, min(n, 16*in+4096)))
	if _, err := io.Copy(b, io.LimitReader(r, int64(n)+1)); err != nil {
		return nil, err
	}
	if c, ok := r.(io.Closer); ok {
		c.Close()
	}
	return b.Bytes(), nil
}

var (
	zstdOnce sync.Once
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// zstdDecoder is one decoder for every ZSTD block (DecodeAll is safe for
// concurrent use), bounded to the largest block this reader accepts.
func zstdDecoder() (*zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxUncompress),
			zstd.WithDecoderMaxWindow(maxUncompress))
	})
	return zstdDec, zstdErr
}
