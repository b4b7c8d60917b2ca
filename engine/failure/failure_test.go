package failure

import (
	"errors"
	"fmt"
	"testing"
)

func TestDeterministic(t *testing.T) {
	base := errors.New("window-count: size must be at least 1 ms")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"marked", Deterministic(base), true},
		{"marked then wrapped", fmt.Errorf("opening operator x: %w", Deterministic(base)), true},
		{"wrapped then marked", Deterministic(fmt.Errorf("opening operator x: %w", base)), true},
		{"joined", errors.Join(errors.New("other"), Deterministic(base)), true},
	} {
		if got := IsDeterministic(tc.err); got != tc.want {
			t.Errorf("%s: IsDeterministic = %v, want %v", tc.name, got, tc.want)
		}
	}
	if Deterministic(nil) != nil {
		t.Error("Deterministic(nil) != nil")
	}
	m := Deterministic(base)
	if m.Error() != base.Error() || !errors.Is(m, base) {
		t.Errorf("marked error %q does not keep its cause", m)
	}
	if Deterministic(m) != m {
		t.Error("marking twice wraps twice")
	}
}
