package storage

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// maxSiteBytes bounds one Hadoop *-site.xml file.
const maxSiteBytes = 8 << 20

// LoadHadoopSite reads Hadoop's XML configuration files (core-site.xml,
// yarn-site.xml, …) named by files from dir, in order: a key in a later
// file wins, as Hadoop's Configuration has it. A missing file is skipped;
// conf is nil when none exists. It is the one reader of Hadoop's XML
// configuration in ckpt: HDFS (core/hdfs-site) and YARN (yarn-site) both
// go through it.
func LoadHadoopSite(dir string, files ...string) (map[string]string, error) {
	var conf map[string]string
	for _, name := range files {
		p := filepath.Join(dir, name)
		b, err := ReadRegular(p, maxSiteBytes)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return conf, err
		}
		var list struct {
			Property []struct {
				Name  string `xml:"name"`
				Value string `xml:"value"`
			} `xml:"property"`
		}
		if err := xml.Unmarshal(b, &list); err != nil {
			return conf, fmt.Errorf("%s: %v", p, err)
		}
		if conf == nil {
			conf = map[string]string{}
		}
		for _, prop := range list.Property {
			conf[prop.Name] = prop.Value
		}
	}
	return conf, nil
}
