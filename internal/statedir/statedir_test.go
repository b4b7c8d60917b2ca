package statedir

import (
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CKPT_STATE_DIR": "/s", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/s"},
		{map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/ckpt"},
		{map[string]string{"XDG_STATE_HOME": "rel", "HOME": "/h"}, "/h/.local/state/ckpt"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/ckpt"},
	} {
		got, err := Dir(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.env, got, err, tc.want)
		}
	}
	p, _ := Path(func(k string) string { return map[string]string{"CKPT_STATE_DIR": "/s"}[k] }, "history", "a")
	if p != filepath.Join("/s", "history", "a") {
		t.Errorf("path %s", p)
	}
}
