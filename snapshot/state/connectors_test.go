package state

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/storage"
)

func TestKnownConnectorStates(t *testing.T) {
	split := (&enc{}).utf("orders").i32(3).i64(42).i64(minInt64).b
	elem := (&enc{}).i32(0).i32(int32(len(split))).b
	elem = append(elem, split...)
	v, ok := Known(SourceReaderState, elem)
	k, isKafka := v.(KafkaSplit)
	if !ok || !isKafka || k.String() != "orders-3 @ 42" || k.Stopping != nil || k.Source != "KafkaSource" {
		t.Fatalf("KafkaSource split: %#v %v", v, ok)
	}
	// Earliest marker, bounded.
	split = (&enc{}).utf("t").i32(0).i64(-2).i64(100).b
	elem = append((&enc{}).i32(0).i32(int32(len(split))).b, split...)
	if v, _ := Known(SourceReaderState, elem); v.(KafkaSplit).Marker != "earliest" || *v.(KafkaSplit).Stopping != 100 {
		t.Fatalf("%#v", v)
	}
	// Another connector's split stays bytes, with its serializer version.
	elem = append((&enc{}).i32(2).i32(3).b, 1, 2, 3)
	if v, ok := Known(SourceReaderState, elem); !ok || v.(SourceSplit).Hex != "010203" || v.(SourceSplit).SerializerVersion != 2 {
		t.Fatalf("%#v", v)
	}
	// FlinkKafkaConsumer's union state: topic "t", partition 3, offset 42,
	// the Kryo bytes Flink 1.x writes (flink-state-format.md §7.1).
	raw, _ := hex.DecodeString("0c019e3806018274000000000000002a")
	v, ok = Known(LegacyKafkaOffsets, Raw{Hex: hex.EncodeToString(raw)})
	if !ok || v.(KafkaSplit).String() != "t-3 @ 42" || v.(KafkaSplit).Source != "FlinkKafkaConsumer" {
		t.Fatalf("legacy Kafka: %#v %v", v, ok)
	}
	// A truncated one is left alone.
	if _, ok := Known(LegacyKafkaOffsets, Raw{Hex: hex.EncodeToString(raw[:5])}); ok {
		t.Fatal("truncated Kryo bytes decoded")
	}
}

// The real fixtures' union list state of strings reads element by element.
func TestFixtureOperatorState(t *testing.T) {
	m := fixture(t, "new-stateful-udf-migration-itcase-flink1.10-savepoint")
	op := operator(t, m, "1f2b5df5a66154aca61fcb26193792be")
	var got []string
	err := ReadOperators(context.Background(), storage.NewLocal(), m, op, func(e OperatorElement) error {
		got = append(got, e.State+"/"+e.Mode+"="+e.Value.(string))
		return nil
	})
	if err != nil || len(got) == 0 {
		t.Fatalf("%v %v", got, err)
	}
	for _, g := range got {
		if !strings.HasPrefix(g, "source-state/UNION=") {
			t.Fatalf("%q", got)
		}
	}
	t.Logf("%q", got)
}
