package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadHadoopSite(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prop := func(k, v string) string {
		return "<property><name>" + k + "</name><value>" + v + "</value></property>"
	}
	write("core-site.xml", "<configuration>"+prop("fs.defaultFS", "hdfs://nn:8020")+prop("shared", "core")+"</configuration>")
	write("yarn-site.xml", "<configuration>"+prop("yarn.resourcemanager.hostname", "rm")+prop("shared", "yarn")+"</configuration>")

	conf, err := LoadHadoopSite(dir, "core-site.xml", "hdfs-site.xml", "yarn-site.xml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"fs.defaultFS": "hdfs://nn:8020", "yarn.resourcemanager.hostname": "rm", "shared": "yarn"}
	for k, v := range want {
		if conf[k] != v {
			t.Errorf("%s = %q, want %q (later files win, a missing one is skipped)", k, conf[k], v)
		}
	}
	if conf, err := LoadHadoopSite(dir, "mapred-site.xml"); err != nil || conf != nil {
		t.Fatalf("no file: %v, %v; want nil, nil", conf, err)
	}
	write("hdfs-site.xml", "<configuration><property>")
	if _, err := LoadHadoopSite(dir, "core-site.xml", "hdfs-site.xml"); err == nil || !strings.Contains(err.Error(), "hdfs-site.xml") {
		t.Fatalf("bad XML: %v, want an error naming hdfs-site.xml", err)
	}
}
