package state

import (
	"testing"

	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
)

// Operator state of known connectors is shown for what it is: a Kafka
// partition and where consumption resumes (the split the reader decoded,
// snapshot/state.Known), and the first level names the state by it.
func TestKafkaOperatorState(t *testing.T) {
	stop := int64(100)
	for _, tc := range []struct {
		v    fstate.KafkaSplit
		want string
	}{
		{fstate.KafkaSplit{Topic: "orders", Partition: 3, Offset: 42, Source: "KafkaSource"}, "Kafka orders-3 @ 42"},
		{fstate.KafkaSplit{Topic: "t", Partition: 0, Offset: -2, Marker: "earliest", Stopping: &stop, Source: "KafkaSource"}, "Kafka t-0 @ earliest (stops at 100)"},
		{fstate.KafkaSplit{Topic: "legacy", Partition: 1, Offset: 7, Source: "FlinkKafkaConsumer"}, "Kafka legacy-1 @ 7"},
	} {
		r := operatorRow(fstate.OperatorElement{Subtask: 2, State: fstate.SourceReaderState, Mode: "SPLIT_DISTRIBUTE", Value: tc.v})
		if r.value != tc.want || r.subtask != 2 {
			t.Errorf("row %q (subtask %d), want %q", r.value, r.subtask, tc.want)
		}
	}
	row := &stateRow{op: &opInfo{counts: counts{kafka: map[string]int{fstate.SourceReaderState: 4}}},
		meta: &fstate.Meta{Name: fstate.SourceReaderState, Type: fstate.Operator}}
	if got := row.valueText(); got != "Kafka offsets: 4 partitions" {
		t.Errorf("first level: %q", got)
	}
}
