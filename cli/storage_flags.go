package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/storage"
)

// Storage flags are persistent on the root command, so every command that
// reads snapshots (ls, du, inspect, browse, ...) takes them the same way.
// Each has an environment equivalent, which is what the flags default to.
func init() {
	rootSetup = append(rootSetup, func(root *cobra.Command) {
		f := root.PersistentFlags()
		f.String("hdfs-user", "", "HDFS user (default $HADOOP_USER_NAME, else the OS user)")
		f.Duration("hdfs-timeout", 0, "bound on each HDFS call, e.g. 10s (default $CKPT_HDFS_TIMEOUT, else 30s)")
		f.String("hadoop-conf-dir", "", "directory with core-site.xml/hdfs-site.xml for hdfs:/// (default $HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop)")
	})
}

// storageOptions reads the storage flags of cmd.
func storageOptions(cmd *cobra.Command) storage.Options {
	var o storage.Options
	o.User, _ = cmd.Flags().GetString("hdfs-user")
	o.ConfDir, _ = cmd.Flags().GetString("hadoop-conf-dir")
	t, _ := cmd.Flags().GetDuration("hdfs-timeout")
	o.Timeout = time.Duration(t)
	return o
}

// openStorage is the filesystem for a command: local paths and hdfs:// URIs,
// configured by the storage flags (and the environment, read now). Close it
// when the command ends.
func openStorage(cmd *cobra.Command) *storage.Router {
	return storage.NewRouter(storageOptions(cmd))
}
