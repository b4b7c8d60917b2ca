package state

import (
	"errors"
	"testing"
)

// ckpt's engine state is named for what it is, not misread as a Flink
// proxy of a strange version.
func TestEngineStateRecognised(t *testing.T) {
	cases := []struct {
		name   string
		head   []byte
		engine bool
	}{
		{"a952d074-4cb7-4caa-afe2-b302e3ba2805", []byte("ckpt-pebble-v2"), true},
		{"da6cc18b-9852-4b11-8a85-aad14f802772.crc32c-f40ea55e", []byte{0x10, 0, 0, 0}, true},
		{"/sp/1f0e2d.kg", []byte{1, 5, 'c'}, true},
		{"/flink/chk-3/1f0e2d-6023-4e8a", []byte{0, 0, 0, 6, 0}, false},
		{"inline state 42d8682b", []byte{0, 0, 0, 5}, false},
	}
	for _, tc := range cases {
		err := engineState(tc.name, tc.head)
		if got := errors.Is(err, ErrEngineState); got != tc.engine {
			t.Errorf("%s: %v, want engine state %v", tc.name, err, tc.engine)
		}
	}
}
