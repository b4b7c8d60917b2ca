package flinkrest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// UploadOnce uploads a jar only when GET /jars has none of its name (the
// name carries its checksum), and reuses the listed one otherwise.
func TestUploadOnceReusesByName(t *testing.T) {
	var mu sync.Mutex
	jars := []JarFileDTO{{ID: "aaa_other.jar", Name: "other.jar", Entry: []JarEntryDTO{}}}
	uploads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/jars":
			json.NewEncoder(w).Encode(JarListDTO{Address: "http://x", Files: jars})
		case r.Method == http.MethodPost && r.URL.Path == "/jars/upload":
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				t.Errorf("upload: %v", err)
			}
			_, h, err := r.FormFile("jarfile")
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			uploads++
			id := "bbb_" + h.Filename
			jars = append(jars, JarFileDTO{ID: id, Name: h.Filename, Entry: []JarEntryDTO{}})
			json.NewEncoder(w).Encode(JarUploadDTO{Filename: "/tmp/upload/" + id, Status: "success"})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, wantUploaded := range []bool{true, false, false} {
		a, uploaded, err := c.UploadOnce(ctx, "ckpt-flink-runner-0123456789abcdef.jar", []byte("PK\x03\x04"))
		if err != nil {
			t.Fatal(err)
		}
		if uploaded != wantUploaded || a.ID != "bbb_ckpt-flink-runner-0123456789abcdef.jar" {
			t.Errorf("call %d: uploaded %v, id %s", i, uploaded, a.ID)
		}
	}
	if uploads != 1 {
		t.Errorf("%d uploads, want 1", uploads)
	}
}
