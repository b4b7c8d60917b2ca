package state

import (
	"encoding/json"
	"math"
	"strconv"
)

// AppendJSON appends e as encoding/json encodes it (the same bytes, no
// newline) without reflection: ckpt state --json prints millions of
// entries. A value it cannot encode (a NaN, an infinity) is json.Marshal's
// error.
func (e *Entry) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"state":`...)
	b = appendJSONString(b, e.State)
	b = append(b, `,"key_group":`...)
	b = strconv.AppendInt(b, int64(e.KeyGroup), 10)
	var err error
	b = append(b, `,"key":`...)
	if b, err = AppendJSON(b, e.Key); err != nil {
		return b, err
	}
	b = append(b, `,"namespace":`...)
	if b, err = AppendJSON(b, e.Namespace); err != nil {
		return b, err
	}
	if e.UserKey != nil {
		b = append(b, `,"user_key":`...)
		if b, err = AppendJSON(b, e.UserKey); err != nil {
			return b, err
		}
	}
	b = append(b, `,"value":`...)
	if b, err = AppendJSON(b, e.Value); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// AppendJSON appends v as json.Marshal encodes it: the kinds a decoded
// value is made of directly, anything else through json.Marshal.
func AppendJSON(b []byte, v Value) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendJSONString(b, x), nil
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return appendJSONFloat(b, x, 64), nil
		}
	case float32:
		if f := float64(x); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return appendJSONFloat(b, f, 32), nil
		}
	case *Record:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '{')
		if x.Class != "" {
			b = append(b, `"class":`...)
			b = appendJSONString(b, x.Class)
			b = append(b, ',')
		}
		if x.Kind != "" {
			b = append(b, `"row_kind":`...)
			b = appendJSONString(b, x.Kind)
			b = append(b, ',')
		}
		b = append(b, `"fields":`...)
		if x.Fields == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for i, f := range x.Fields {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"name":`...)
				b = appendJSONString(b, f.Name)
				b = append(b, `,"value":`...)
				var err error
				if b, err = AppendJSON(b, f.Value); err != nil {
					return b, err
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		return append(b, '}'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, y := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendJSON(b, y); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case []MapEntry:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, y := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			b = append(b, `{"key":`...)
			if b, err = AppendJSON(b, y.Key); err != nil {
				return b, err
			}
			b = append(b, `,"value":`...)
			if b, err = AppendJSON(b, y.Value); err != nil {
				return b, err
			}
			b = append(b, '}')
		}
		return append(b, ']'), nil
	case Window:
		b = append(b, '{')
		sep := false
		field := func(name string) {
			if sep {
				b = append(b, ',')
			}
			b = append(b, name...)
			sep = true
		}
		if x.Global {
			field(`"global":true`)
		}
		if x.Start != 0 {
			field(`"start":`)
			b = strconv.AppendInt(b, x.Start, 10)
		}
		if x.End != 0 {
			field(`"end":`)
			b = strconv.AppendInt(b, x.End, 10)
		}
		return append(b, '}'), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// appendJSONFloat is encoding/json's number form of a finite float: the
// shortest decimal that reads back, exponent form below 1e-6 and from
// 1e21 on, a one-digit negative exponent without its leading zero.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// jsonPlain marks the bytes encoding/json writes as they are inside a
// string: printable ASCII but for '"', '\\' and the HTML-escaped <, >, &.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7F; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// Eight bytes at a time: lanes is 0x01 in every byte, high 0x80.
const (
	lanes = 0x0101010101010101
	high  = 0x8080808080808080
)

// zeroByte is non-zero when one of x's bytes is zero.
func zeroByte(x uint64) uint64 { return (x - lanes) & ^x & high }

// plain8 reports whether the eight bytes of x are all jsonPlain.
func plain8(x uint64) bool {
	bad := (x-lanes*0x20)&^x&high | x&high | zeroByte(x^lanes*0x7F) |
		zeroByte(x^lanes*'"') | zeroByte(x^lanes*'\\') | zeroByte(x^lanes*'<') | zeroByte(x^lanes*'>') | zeroByte(x^lanes*'&')
	return bad == 0
}

// appendJSONString is json.Marshal(s): plain text as it is, anything
// needing an escape through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if !plain8(x) {
			break
		}
	}
	for ; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			j, _ := json.Marshal(s) // a string always encodes
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
