package snapshot

import "unicode/utf8"

// Java's DataOutput.writeUTF writes "modified UTF-8": U+0000 as C0 80, and
// characters above U+FFFF as two 3-byte surrogates. A Java string may also
// hold a lone surrogate. ckpt keeps strings as Go strings:
//
//   - C0 80 decodes to a NUL byte;
//   - a surrogate pair decodes to the character's normal 4-byte UTF-8;
//   - a lone surrogate is kept as its 3-byte form (ED A0..BF xx), which is
//     not valid UTF-8 but survives in a Go string (WTF-8 style).
//
// appendMUTF8 reverses each rule, so every string Java can write decodes and
// re-encodes to the same bytes. Forms Java never writes (a raw 00 byte,
// overlong sequences, 4-byte sequences) are rejected rather than
// normalised, because re-encoding them could not give the input back.

// decodeMUTF8 decodes modified UTF-8; ok is false for malformed or
// non-canonical input.
func decodeMUTF8(b []byte) (string, bool) {
	ascii := true
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c >= 0x01 && c < 0x80:
			out = append(out, c)
			i++
		case c&0xE0 == 0xC0:
			if i+1 >= len(b) || b[i+1]&0xC0 != 0x80 {
				return "", false
			}
			r := rune(c&0x1F)<<6 | rune(b[i+1]&0x3F)
			if r == 0 {
				out = append(out, 0)
			} else if r < 0x80 {
				return "", false // overlong
			} else {
				out = append(out, c, b[i+1])
			}
			i += 2
		case c&0xF0 == 0xE0:
			if i+2 >= len(b) || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 {
				return "", false
			}
			r := rune(c&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
			if r < 0x800 {
				return "", false // overlong
			}
			if r >= 0xD800 && r <= 0xDBFF && i+5 < len(b) && b[i+3]&0xF0 == 0xE0 &&
				b[i+4]&0xC0 == 0x80 && b[i+5]&0xC0 == 0x80 {
				lo := rune(b[i+3]&0x0F)<<12 | rune(b[i+4]&0x3F)<<6 | rune(b[i+5]&0x3F)
				if lo >= 0xDC00 && lo <= 0xDFFF {
					out = utf8.AppendRune(out, 0x10000+(r-0xD800)<<10+(lo-0xDC00))
					i += 6
					continue
				}
			}
			out = append(out, b[i], b[i+1], b[i+2]) // BMP character or lone surrogate, same bytes
			i += 3
		default:
			return "", false
		}
	}
	return string(out), true
}

// appendMUTF8 appends s in modified UTF-8. ok is false when s holds bytes
// that are neither UTF-8 nor a surrogate kept by decodeMUTF8.
func appendMUTF8(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x01 && c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		if c == 0 {
			dst = append(dst, 0xC0, 0x80)
			i++
			continue
		}
		// A lone surrogate kept from a decoded file.
		if c == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2]&0xC0 == 0x80 {
			dst = append(dst, s[i:i+3]...)
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return dst, false
		}
		if r >= 0x10000 {
			r -= 0x10000
			dst = appendSurrogate(dst, 0xD800+(r>>10))
			dst = appendSurrogate(dst, 0xDC00+(r&0x3FF))
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst, true
}

func appendSurrogate(dst []byte, r rune) []byte {
	return append(dst, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
}

// mutf8Len is the encoded length of s; ok false as for appendMUTF8.
func mutf8Len(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= 0x80 {
			b, ok := appendMUTF8(nil, s)
			return len(b), ok
		}
		n++
	}
	return n, true
}

// DecodeModifiedUTF8 decodes the bytes of a Java writeUTF string (without
// its length) by the rules above; ok is false for malformed input. The
// state codec (snapshot/state) reads state and class names with it.
func DecodeModifiedUTF8(b []byte) (string, bool) { return decodeMUTF8(b) }
