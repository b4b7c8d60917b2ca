package contexts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/ckpt-dev/ckpt/storage"
)

// Use makes name the current context in the config file at path. Only the
// current-context line changes: the file is edited as a YAML tree, so the
// user's comments, order and other settings stay, and it is replaced
// atomically (a temporary file beside it, renamed over it) with its mode.
func Use(path, name string) error {
	f, err := Load(path)
	if err != nil {
		return err
	}
	if _, err := f.Get(name); err != nil {
		return err
	}
	b, err := storage.ReadRegular(path, maxConfigBytes)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("config %s: %v", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("config %s: not a YAML mapping", path)
	}
	m := doc.Content[0]
	set := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "current-context" {
			m.Content[i+1].SetString(name)
			set = true
		}
	}
	if !set {
		k := &yaml.Node{Kind: yaml.ScalarNode, Value: "current-context"}
		v := &yaml.Node{Kind: yaml.ScalarNode}
		v.SetString(name)
		m.Content = append([]*yaml.Node{k, v}, m.Content...)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("config %s: %v", path, err)
	}
	enc.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	_, err = tmp.Write(out.Bytes())
	if err == nil {
		err = tmp.Chmod(fi.Mode().Perm())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		// Our own temporary file, never the user's config.
		os.Remove(tmp.Name())
		return fmt.Errorf("config %s: writing the current context: %w", path, err)
	}
	return nil
}
