package state

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Operator state of well-known connectors, named for what it is
// (flink-state-format.md §7.1). The formats are the connectors' public
// serializers; a value that does not parse as one stays as it was.

// Well-known operator state names.
const (
	// SourceReaderState is every FLIP-27 source's split list state.
	SourceReaderState = "SourceReaderState"
	// LegacyKafkaOffsets is FlinkKafkaConsumerBase's union state (1.x).
	LegacyKafkaOffsets = "topic-partition-offset-states"
)

// KafkaSplit is a Kafka partition and where consumption resumes.
type KafkaSplit struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Offset is the next offset to read (KafkaSource), or for the legacy
	// consumer the last emitted one; Marker names a sentinel instead.
	Offset int64  `json:"offset"`
	Marker string `json:"marker,omitempty"`
	// Stopping is a bounded KafkaSource's stopping offset, when it has one.
	Stopping *int64 `json:"stopping_offset,omitempty"`
	// Source says which connector wrote it: "KafkaSource" or
	// "FlinkKafkaConsumer".
	Source string `json:"source"`
}

func (k KafkaSplit) String() string {
	at := fmt.Sprint(k.Offset)
	if k.Marker != "" {
		at = k.Marker
	}
	return fmt.Sprintf("%s-%d @ %s", k.Topic, k.Partition, at)
}

// SourceSplit is a FLIP-27 split whose connector ckpt does not know.
type SourceSplit struct {
	SerializerVersion int32  `json:"serializer_version"`
	Hex               string `json:"hex"`
}

// Known rewrites the value of a well-known operator state into what it
// means: Kafka partitions and offsets, FLIP-27 splits. ok is false when
// state is not one ckpt knows, or the value does not parse as it.
func Known(state string, v Value) (Value, bool) {
	switch state {
	case SourceReaderState:
		b, ok := v.([]byte)
		if !ok {
			return nil, false
		}
		return sourceSplit(b)
	case LegacyKafkaOffsets:
		r, ok := v.(Raw)
		if !ok {
			return nil, false
		}
		b, err := hex.DecodeString(r.Hex)
		if err != nil {
			return nil, false
		}
		k, ok := legacyKafka(b)
		return k, ok
	}
	return nil, false
}

// sourceSplit: i32 serializer version, i32 length, the split's bytes
// (SimpleVersionedSerialization), tried as a KafkaPartitionSplit.
func sourceSplit(b []byte) (Value, bool) {
	d := newDecoder(b, "", 0)
	ver, err := d.i32("split serializer version")
	if err != nil {
		return nil, false
	}
	n, err := d.count("split length", 1)
	if err != nil || n != d.left() {
		return nil, false
	}
	split := d.b[d.pos:]
	sd := newDecoder(split, "", 0)
	if topic, err := sd.utf("topic"); err == nil {
		part, err1 := sd.i32("partition")
		start, err2 := sd.i64("starting offset")
		stop, err3 := sd.i64("stopping offset")
		if err1 == nil && err2 == nil && err3 == nil && sd.left() == 0 && ver == 0 {
			k := KafkaSplit{Topic: topic, Partition: part, Offset: start, Source: "KafkaSource"}
			switch start {
			case -2:
				k.Marker = "earliest"
			case -3:
				k.Marker = "committed"
			case -1:
				k.Marker = "latest"
			}
			if stop != minInt64 && stop >= 0 {
				k.Stopping = &stop
			}
			return k, true
		}
	}
	return SourceSplit{SerializerVersion: ver, Hex: hex.EncodeToString(split)}, true
}

// legacyKafka decodes FlinkKafkaConsumer's element: a Kryo-serialized
// KafkaTopicPartition (class id, reference marker, cachedHash, partition,
// topic, fields in alphabetical order) then the Long offset.
func legacyKafka(b []byte) (KafkaSplit, bool) {
	if len(b) < 8 {
		return KafkaSplit{}, false
	}
	k := KafkaSplit{Offset: int64(binary.BigEndian.Uint64(b[len(b)-8:])), Source: "FlinkKafkaConsumer"}
	kd := &kryo{b: b[:len(b)-8]}
	kd.varint()         // class id + 2: depends on registrations
	if kd.byte() != 1 { // a new object (reference tracking)
		return KafkaSplit{}, false
	}
	kd.varint() // cachedHash (zigzag)
	k.Partition = int32(zigzag(kd.varint()))
	if kd.byte() != 1 { // the topic string: 1 = present, 0 = null
		return KafkaSplit{}, false
	}
	k.Topic = kd.str()
	if kd.err || kd.pos != len(kd.b) {
		return KafkaSplit{}, false
	}
	switch k.Offset {
	case -915623761776:
		k.Marker = "not set"
	case -915623761775:
		k.Marker = "earliest"
	case -915623761774:
		k.Marker = "latest"
	case -915623761773:
		k.Marker = "group offsets"
	}
	return k, true
}

// kryo reads the few Kryo 2.24 encodings the legacy Kafka state uses.
type kryo struct {
	b   []byte
	pos int
	err bool
}

func (k *kryo) byte() byte {
	if k.pos >= len(k.b) {
		k.err = true
		return 0
	}
	c := k.b[k.pos]
	k.pos++
	return c
}

func (k *kryo) varint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c := k.byte()
		v |= uint64(c&0x7F) << shift
		if c < 0x80 {
			return v
		}
	}
	k.err = true
	return 0
}

func zigzag(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

// str reads a Kryo string: ASCII with the top bit set on the last byte,
// or a length+1 varint (first byte: 0x80 flag, 6 bits, 0x40 = more) and
// then the characters.
func (k *kryo) str() string {
	first := k.byte()
	if first&0x80 == 0 { // ASCII
		out := []byte{first}
		for first&0x80 == 0 && !k.err {
			first = k.byte()
			out = append(out, first&0x7F)
		}
		return string(out)
	}
	n := uint64(first & 0x3F)
	if first&0x40 != 0 {
		n |= k.varint() << 6
	}
	if n <= 1 || n-1 > uint64(len(k.b)-k.pos) {
		if n > 1 {
			k.err = true
		}
		return ""
	}
	var rs []rune
	for i := uint64(0); i < n-1 && !k.err; i++ {
		c := k.byte()
		switch c >> 4 {
		case 12, 13:
			rs = append(rs, rune(c&0x1F)<<6|rune(k.byte()&0x3F))
		case 14:
			rs = append(rs, rune(c&0x0F)<<12|rune(k.byte()&0x3F)<<6|rune(k.byte()&0x3F))
		default:
			rs = append(rs, rune(c))
		}
	}
	return string(rs)
}

// ReadOperators calls fn for every element of operator op's operator
// state (list, union and broadcast states of every subtask), well-known
// connector states decoded by Known.
func readOperatorElements(p *OperatorProxy, b []byte, h []NamedOffsets, file string, fn func(OperatorElement) error) error {
	metas := map[string]*Meta{}
	for _, m := range append(append([]*Meta{}, p.States...), p.Broadcast...) {
		metas[m.Name] = m
	}
	for _, st := range h {
		m := metas[st.Name]
		if m == nil {
			return &Error{File: file, Want: fmt.Sprintf("state %q in the proxy", st.Name), Err: fmt.Errorf("the handle names a state the file's proxy does not")}
		}
		vals, err := ReadOperatorState(p, m, b, st.Offsets, file)
		if err != nil {
			return err
		}
		for _, v := range vals {
			e := OperatorElement{State: st.Name, Mode: m.Kind(), Value: v}
			if k, ok := Known(st.Name, v); ok {
				e.Value = k
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// NamedOffsets is one state's offsets in an operator state handle.
type NamedOffsets struct {
	Name    string
	Offsets []int64
}

// OperatorElement is one element of an operator state.
type OperatorElement struct {
	Subtask int    `json:"subtask"`
	State   string `json:"state"`
	Mode    string `json:"mode"`
	Value   Value  `json:"value"`
}
