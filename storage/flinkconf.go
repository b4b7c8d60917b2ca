package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Flink reads filesystem settings (s3.endpoint, fs.s3a.access.key, ...)
// from its configuration file in FLINK_CONF_DIR: config.yaml since Flink
// 1.19 (nested or flat YAML), flink-conf.yaml before (flat "key: value"
// lines, which are YAML too). ckpt reads the same file, so an operator's
// existing setup reaches the same buckets.

// FlinkConfDir is confDir, else $FLINK_CONF_DIR; "" when neither is set.
func FlinkConfDir(confDir string) string {
	if confDir != "" {
		return confDir
	}
	return os.Getenv("FLINK_CONF_DIR")
}

// LoadFlinkConf reads the Flink configuration file in dir into flat keys.
// It prefers config.yaml and falls back to flink-conf.yaml; a dir with
// neither gives an empty map and "" as the file.
func LoadFlinkConf(dir string) (map[string]string, string, error) {
	out := map[string]string{}
	if dir == "" {
		return out, "", nil
	}
	for _, name := range []string{"config.yaml", "flink-conf.yaml"} {
		file := filepath.Join(dir, name)
		b, err := ReadRegular(file, 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, file, err
		}
		var root yaml.Node
		if err := yaml.Unmarshal(b, &root); err != nil {
			return nil, file, fmt.Errorf("%s: %v", file, err)
		}
		if len(root.Content) > 0 {
			if err := flattenYAML(root.Content[0], "", out); err != nil {
				return nil, file, fmt.Errorf("%s: %v", file, err)
			}
		}
		return out, file, nil
	}
	return out, "", nil
}

func flattenYAML(n *yaml.Node, prefix string, out map[string]string) error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if prefix != "" {
				k = prefix + "." + k
			}
			if err := flattenYAML(n.Content[i+1], k, out); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if prefix != "" {
			out[prefix] = n.Value
		}
	case yaml.SequenceNode:
		// Lists (e.g. env.java.opts.all) matter to nothing storage reads:
		// keep them in Flink's own "a;b" spelling.
		var vals []string
		for _, c := range n.Content {
			vals = append(vals, c.Value)
		}
		out[prefix] = strings.Join(vals, ";")
	case yaml.AliasNode:
		return flattenYAML(n.Alias, prefix, out)
	}
	return nil
}

// IsFilesystemKey reports whether a Flink configuration key configures a
// filesystem ckpt's storage reads (S3, GCS, Azure, fs.default-scheme), so
// the CLI can hand -D values of that kind to storage.
func IsFilesystemKey(key string) bool {
	if key == DefaultSchemeKey {
		return true
	}
	for _, p := range []string{"s3.", "fs.s3a.", "s3a.", "presto.s3.", "gs.", "fs.gs.", "google.cloud.auth.", "fs.azure."} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
