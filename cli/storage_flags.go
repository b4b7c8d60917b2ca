package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/internal/contexts"
	"github.com/ckpt-dev/ckpt/storage"
)

// Storage flags are persistent on the root command, so every command that
// reads snapshots (ls, du, inspect, browse, ...) takes them the same way.
// Each has an environment equivalent, which is what the flags default to.
//
// Object stores are configured the way Flink configures them: its keys
// (s3.endpoint, s3.access-key, s3.secret-key, s3.path.style.access and the
// fs.s3a.* equivalents) given with -D, else read from the Flink
// configuration file in --flink-conf-dir / $FLINK_CONF_DIR; what neither
// sets comes from the cloud's own credential chain.
func init() {
	rootSetup = append(rootSetup, func(root *cobra.Command) {
		f := root.PersistentFlags()
		f.String("hdfs-user", "", "HDFS user (default $HADOOP_USER_NAME, else the OS user)")
		f.Duration("hdfs-timeout", 0, "bound on each HDFS and S3 call, e.g. 10s (default $CKPT_HDFS_TIMEOUT, else 30s)")
		f.String("hadoop-conf-dir", "", "directory with core-site.xml/hdfs-site.xml for hdfs:/// (default $HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop)")
		f.String("flink-conf-dir", "", "directory with Flink's config.yaml or flink-conf.yaml, read for storage keys (s3.*, fs.s3a.*, gs.*, fs.gs.*, fs.azure.*, fs.default-scheme) and security.ssl.rest.* (default $FLINK_CONF_DIR)")
		// Commands with their own -D (run, serve, submit) shadow this one
		// under the same name; storageOptions reads whichever the command has.
		f.StringArrayP("define", "D", nil, "Flink configuration key=value for storage and REST TLS, e.g. -D s3.endpoint=http://minio:9000 (repeatable)")
	})
}

// storageOptions reads the storage flags of cmd.
func storageOptions(cmd *cobra.Command) storage.Options {
	var o storage.Options
	o.User, _ = cmd.Flags().GetString("hdfs-user")
	o.ConfDir, _ = cmd.Flags().GetString("hadoop-conf-dir")
	o.FlinkConfDir, _ = cmd.Flags().GetString("flink-conf-dir")
	t, _ := cmd.Flags().GetDuration("hdfs-timeout")
	o.Timeout = time.Duration(t)
	defs, _ := cmd.Flags().GetStringArray("define")
	o.Conf = filesystemConf(defs)
	// The active context's storage settings fill what the flags leave
	// unset (flags and -D win).
	name, c, _, err := activeContext(cmd)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "ckpt: warning: %v (its storage settings are not used)\n", err)
	}
	if name != "" && err == nil {
		if o.ConfDir == "" {
			o.ConfDir = contexts.Expand(c.HadoopConfDir)
		}
		if o.FlinkConfDir == "" && storage.FlinkConfDir("") == "" {
			o.FlinkConfDir = contexts.Expand(c.FlinkConfDir)
		}
		for k, v := range c.Flink {
			if !storage.IsFilesystemKey(k) {
				continue
			}
			if o.Conf == nil {
				o.Conf = map[string]string{}
			}
			if _, set := o.Conf[k]; !set {
				o.Conf[k] = v
			}
		}
	}
	return o
}

// filesystemConf keeps the -D key=value pairs that configure a filesystem
// (later ones win, as in Flink).
func filesystemConf(defs []string) map[string]string {
	var conf map[string]string
	for _, d := range defs {
		k, v, ok := strings.Cut(d, "=")
		k = strings.TrimSpace(k)
		if !ok || !storage.IsFilesystemKey(k) {
			continue
		}
		if conf == nil {
			conf = map[string]string{}
		}
		conf[k] = strings.TrimSpace(v)
	}
	return conf
}

// openStorage is the filesystem for a command: local paths, hdfs:// and
// s3:// URIs, configured by the storage flags (and the environment, read
// now). Close it when the command ends.
func openStorage(cmd *cobra.Command) *storage.Router {
	return storage.NewRouter(storageOptions(cmd))
}
