package snapshot

import "fmt"

// ChannelKind is the kind of an in-flight-data (unaligned checkpoint)
// handle. From V6 on it is written as a byte in front of the handle; in
// V3–V5 the slot (input or output list) implies it.
type ChannelKind uint8

const (
	InputChannel             ChannelKind = 1 // data of one input channel (gate, channel)
	ResultSubpartition       ChannelKind = 2 // data of one output subpartition (partition, subpartition)
	MergedInputChannel       ChannelKind = 3 // V6+: several input channels in one stream
	MergedResultSubpartition ChannelKind = 4 // V6+: several subpartitions in one stream
)

func (k ChannelKind) String() string {
	switch k {
	case InputChannel:
		return "InputChannel"
	case ResultSubpartition:
		return "ResultSubpartition"
	case MergedInputChannel:
		return "MergedInputChannel"
	case MergedResultSubpartition:
		return "MergedResultSubpartition"
	}
	return fmt.Sprintf("ChannelKind(%d)", uint8(k))
}

// Merged reports whether the kind is one of the merged (V6+) kinds.
func (k ChannelKind) Merged() bool { return k == MergedInputChannel || k == MergedResultSubpartition }

// Input reports whether the kind belongs in the input-channel list.
func (k ChannelKind) Input() bool { return k == InputChannel || k == MergedInputChannel }

// ChannelHandle is the in-flight data of an unaligned checkpoint for one
// channel (or, merged, for several channels of one subtask).
type ChannelHandle struct {
	Kind    ChannelKind
	Subtask int32
	// Gate and Channel: for inputs the gate and input-channel index, for
	// outputs the partition and subpartition index. Unused when merged.
	Gate    int32
	Channel int32
	// Offsets of the buffers in Delegate. Unused when merged.
	Offsets []int64
	Size    int64
	// Delegate holds the bytes.
	Delegate StreamHandle
	// MergedOffsets is the opaque serialized per-channel offsets of a
	// merged handle.
	MergedOffsets []byte
}

// StateSize is the handle's recorded state size.
func (h *ChannelHandle) StateSize() int64 { return h.Size }
