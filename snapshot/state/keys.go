package state

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// ParseKey reads a key given on the command line as a value of the key
// type t: numbers, strings, booleans, and Tuples of those with fields
// separated by ',' (Tuple1 takes the bare field). Other key types cannot
// be looked up by value (their hashCode is the user's own).
func ParseKey(t *Type, s string) (Value, error) {
	if t == nil {
		return nil, fmt.Errorf("no key serializer")
	}
	if t.Kind == KindTuple {
		parts := strings.Split(s, ",")
		if len(parts) != len(t.Fields) {
			return nil, fmt.Errorf("key %q: %s has %d fields", s, t, len(t.Fields))
		}
		r := &Record{Class: t.Class}
		for i, f := range t.Fields {
			v, err := parseScalar(f.Type, strings.TrimSpace(parts[i]))
			if err != nil {
				return nil, err
			}
			r.Fields = append(r.Fields, NamedItem{f.Name, v})
		}
		return r, nil
	}
	return parseScalar(t, s)
}

func parseScalar(t *Type, s string) (Value, error) {
	bad := func(err error) error { return fmt.Errorf("key %q is not a %s: %v", s, t, err) }
	switch t.Kind {
	case KindLong:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		return v, nil
	case KindInt:
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, bad(err)
		}
		return int32(v), nil
	case KindShort:
		v, err := strconv.ParseInt(s, 10, 16)
		if err != nil {
			return nil, bad(err)
		}
		return int16(v), nil
	case KindByte:
		v, err := strconv.ParseInt(s, 10, 8)
		if err != nil {
			return nil, bad(err)
		}
		return int8(v), nil
	case KindBoolean:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, bad(err)
		}
		return v, nil
	case KindString:
		return s, nil
	}
	return nil, fmt.Errorf("keys of type %s cannot be looked up by value (ckpt computes Java's hashCode for numbers, strings, booleans and Tuples of them)", t)
}

// javaHash is Java's hashCode of a decoded key: the rules of the boxed
// types, String, and Flink's Tuple (h = hash(f0), then 31*h + hash(fi)).
func javaHash(v Value) (int32, error) {
	switch v := v.(type) {
	case int64:
		return int32(v ^ int64(uint64(v)>>32)), nil
	case int32:
		return v, nil
	case int16:
		return int32(v), nil
	case int8:
		return int32(v), nil
	case bool:
		if v {
			return 1231, nil
		}
		return 1237, nil
	case float64:
		b := math.Float64bits(v)
		if v != v {
			b = 0x7ff8000000000000
		}
		return int32(int64(b) ^ int64(b>>32)), nil
	case string:
		var h int32
		for _, u := range utf16.Encode([]rune(v)) {
			h = 31*h + int32(u)
		}
		return h, nil
	case *Record:
		var h int32
		for i, f := range v.Fields {
			x, err := javaHash(f.Value)
			if err != nil {
				return 0, err
			}
			if i == 0 {
				h = x
			} else {
				h = 31*h + x
			}
		}
		return h, nil
	}
	return 0, fmt.Errorf("no Java hashCode known for %T", v)
}

// KeyGroup is the key group Flink assigns key to (KeyGroupRangeAssignment):
// murmurHash(key.hashCode()) % maxParallelism.
func KeyGroup(key Value, maxParallelism int) (int, error) {
	if maxParallelism <= 0 {
		return 0, fmt.Errorf("max parallelism %d", maxParallelism)
	}
	h, err := javaHash(key)
	if err != nil {
		return 0, err
	}
	return keygroup.ForHash(h, maxParallelism), nil
}

// SameKey reports whether a decoded key equals a parsed one.
func SameKey(a, b Value) bool {
	ra, ok1 := a.(*Record)
	rb, ok2 := b.(*Record)
	if ok1 && ok2 {
		if len(ra.Fields) != len(rb.Fields) {
			return false
		}
		for i := range ra.Fields {
			if !SameKey(ra.Fields[i].Value, rb.Fields[i].Value) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
