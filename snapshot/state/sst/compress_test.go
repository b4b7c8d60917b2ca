package sst

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// rocksFramed is a block as RocksDB frames it at compress_format_version
// 2: the decompressed size as a varint32, then the codec's bytes.
func rocksFramed(size int, body []byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(size)), body...)
}

func encoders(t *testing.T) map[byte]func([]byte) []byte {
	return map[byte]func([]byte) []byte{
		compressionLZ4: func(b []byte) []byte {
			out := make([]byte, lz4.CompressBlockBound(len(b)))
			n, err := lz4.CompressBlock(b, out, nil)
			if err != nil || n == 0 {
				t.Fatal(n, err)
			}
			return out[:n]
		},
		compressionZSTD: func(b []byte) []byte {
			e, err := zstd.NewWriter(nil)
			if err != nil {
				t.Fatal(err)
			}
			return e.EncodeAll(b, nil)
		},
		compressionZlib: func(b []byte) []byte { // raw deflate, window_bits -14
			var w bytes.Buffer
			fw, _ := flate.NewWriter(&w, flate.DefaultCompression)
			fw.Write(b)
			fw.Close()
			return w.Bytes()
		},
	}
}

// Each codec's framing: the block decodes to exactly the declared size;
// a size that disagrees, a cut body or a missing size is ErrCorrupt, and a
// claim past what the body can expand to allocates nothing.
func TestDecompressFraming(t *testing.T) {
	plain := bytes.Repeat([]byte("flink state \x00\x01\x02 key group "), 200)
	for typ, enc := range encoders(t) {
		name := CompressionName(typ)
		body := enc(plain)
		got, err := decompress(typ, rocksFramed(len(plain), body))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range []struct {
			what  string
			block []byte
		}{
			{"size too small", rocksFramed(len(plain)-1, body)},
			{"size too large", rocksFramed(len(plain)+1, body)},
			{"cut body", rocksFramed(len(plain), body[:len(body)/2])},
			{"no size", []byte{0x80}},
			{"absurd size", rocksFramed(maxUncompress+1, body)},
			{"size past the body's expansion", rocksFramed(maxUncompress-1, body[:4])},
		} {
			if _, err := decompress(typ, c.block); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s, %s: %v", name, c.what, err)
			}
		}
	}
	// LZ4HC writes the LZ4 block format.
	if got, err := decompress(compressionLZ4HC, rocksFramed(len(plain), encoders(t)[compressionLZ4](plain))); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("LZ4HC: %v", err)
	}
}
