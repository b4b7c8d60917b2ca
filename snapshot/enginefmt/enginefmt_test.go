package enginefmt

import (
	"errors"
	"testing"
)

func TestSchemaRoundTrip(t *testing.T) {
	in := map[string]Schema{
		"count":   {Kind: KindValue, Key: TypeString, Value: TypeInt64},
		"windows": {Kind: KindValue, Key: TypeString, Value: TypeWindowCounts},
		"m":       {Kind: KindMap, Key: TypeString, Value: TypeBytes, MapKey: TypeBytes},
	}
	for n, s := range in {
		enc := s.Encode()
		d, err := DecodeSchema(enc)
		if err != nil || d != s {
			t.Fatalf("%s: %+v %v, want %+v", n, d, err, s)
		}
		for i := 0; i < len(enc); i++ {
			if _, err := DecodeSchema(enc[:i]); err == nil {
				t.Fatalf("%s truncated to %d read", n, i)
			}
		}
	}
	if _, err := DecodeSchema([]byte{9}); err == nil {
		t.Fatal("unknown schema version read")
	}
}

func TestDecodeGroupAndLog(t *testing.T) {
	var g []byte
	g = AppendField(g, []byte("sum"))
	g = AppendField(g, []byte("key-1"))
	g = AppendField(g, []byte{0, 0, 0, 0, 0, 0, 0, 7})
	g = append(g, EndOfGroup)
	n := 0
	used, err := DecodeGroup(append(g, 0xEE), func(name, key, value []byte) error { n++; return nil })
	if err != nil || n != 1 || used != len(g) {
		t.Fatalf("%d entries, %d bytes, %v", n, used, err)
	}
	for i := 0; i < len(g)-1; i++ {
		if _, err := DecodeGroup(g[:i], func(_, _, _ []byte) error { return nil }); err == nil {
			t.Fatalf("truncated to %d read", i)
		}
	}
	log := []byte(LogMagic)
	log = AppendLogWrite(log, []byte{0, 1, 0, 1}, []byte("k"), []byte("v"), true)
	log = AppendLogWrite(log, nil, []byte{0, 1, 0, 1, 'k'}, nil, false)
	log = AppendLogCount(log, 2)
	crc := Checksum(log)
	log = append(log, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
	log = append(log, LogTrailer...)
	var sets, dels int
	if err := DecodeLog(log, func(k, v []byte, set bool) {
		if set {
			sets++
		} else {
			dels++
		}
	}); err != nil || sets != 1 || dels != 1 {
		t.Fatalf("%d sets %d deletes %v", sets, dels, err)
	}
	for i := range log {
		bad := append([]byte(nil), log...)
		bad[i] ^= 0x40
		var le *LogError
		if err := DecodeLog(bad, func(_, _ []byte, _ bool) {}); !errors.As(err, &le) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
}

func TestParseChain(t *testing.T) {
	ok := EncodeChain([]string{DeltaName(3, false), DeltaName(5, true)})
	d, err := ParseChain(ok)
	if err != nil || len(d) != 2 || d[1].Seq != 5 || !IsLog(d[1].Name) {
		t.Fatalf("%+v %v", d, err)
	}
	for _, bad := range []string{"", "nope\n", "ckpt-chain 1\n../x\n", "ckpt-chain 1\n" + DeltaName(5, false) + "\n" + DeltaName(3, false) + "\n"} {
		if _, err := ParseChain([]byte(bad)); err == nil {
			t.Fatalf("%q parsed", bad)
		}
	}
}
