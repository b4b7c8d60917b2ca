package themes

import (
	"strings"
	"testing"
)

func TestPick(t *testing.T) {
	tests := []struct {
		ch   Choice
		want string
		err  bool
	}{
		{Choice{Name: "", DarkBG: true}, "dark", false},
		{Choice{Name: "auto", DarkBG: false}, "light", false},
		{Choice{Name: "light", DarkBG: true}, "light", false},
		{Choice{Name: "High-Contrast"}, "high-contrast", false},
		{Choice{Name: "dark", NoColor: true}, "mono", false},
		{Choice{Name: "solarized"}, "", true},
	}
	for _, tc := range tests {
		th, err := Pick(tc.ch)
		if tc.err {
			if err == nil || !strings.Contains(err.Error(), "high-contrast") {
				t.Errorf("Pick(%+v): want an error listing the themes, got %v", tc.ch, err)
			}
			continue
		}
		if err != nil || th.Name != tc.want {
			t.Errorf("Pick(%+v) = %v, %v; want %s", tc.ch, th, err, tc.want)
		}
	}
}

func TestNoColorSet(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if NoColorSet(get) {
		t.Fatal("unset NO_COLOR must allow colour")
	}
	env["NO_COLOR"] = "1"
	if !NoColorSet(get) {
		t.Fatal("NO_COLOR=1 must disable colour")
	}
}

// The cursor row must stay visible without colour: every theme marks it
// with reverse video, which survives NO_COLOR and monochrome terminals.
func TestSelectionVisibleWithoutColour(t *testing.T) {
	for _, n := range Names() {
		th, err := Pick(Choice{Name: n, DarkBG: true})
		if err != nil {
			t.Fatal(err)
		}
		if !th.Selected.GetReverse() {
			t.Errorf("theme %s: selected row not reversed", n)
		}
	}
}
