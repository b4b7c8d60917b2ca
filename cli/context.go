package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/internal/contexts"
)

func init() { register(newContextCmd) }

func newContextCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context (list|use NAME|show [NAME])",
		Short: "List, pick and show named targets (contexts)",
		Long: `Contexts are named targets in ckpt's config file (CKPT_CONFIG, else
~/.config/ckpt/config.yaml): a REST endpoint with its TLS, authentication and
headers, and where its checkpoints and savepoints live. --context NAME (or
$` + ContextEnv + `) picks one for a command; "ckpt context use NAME" makes it
the current one. Secrets are never shown: a context names the file or the
environment variable its password or token comes from.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the contexts (* marks the current one)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := loadContexts()
			if err != nil {
				return err
			}
			active, _, _, _ := activeContext(cmd)
			if asJSON {
				return printContextsJSON(cmd.OutOrStdout(), f, active)
			}
			if len(f.Contexts) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no contexts in %s (see README: Contexts)\n", contexts.ConfigPath(os.Getenv))
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CURRENT\tNAME\tJOBMANAGER\tTLS\tAUTH\tCHECKPOINTS")
			for _, n := range f.Names() {
				c := f.Contexts[n]
				mark := ""
				if n == active {
					mark = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, n, dash(c.JobManager), tlsSummary(c), authSummary(c.Auth), dash(c.Checkpoints))
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	use := &cobra.Command{
		Use:   "use NAME",
		Short: "Make NAME the current context (edits current-context in the config file, keeping the rest)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := contexts.ConfigPath(os.Getenv)
			if err := contexts.Use(path, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "current context: %s (%s)\n", args[0], path)
			if os.Getenv(ContextEnv) != "" && os.Getenv(ContextEnv) != args[0] {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: $%s=%s still wins in this shell\n", ContextEnv, os.Getenv(ContextEnv))
			}
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show a context (the active one without NAME); secrets are named, never shown",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := loadContexts()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			} else if name, _, _, err = activeContext(cmd); err != nil {
				return err
			}
			if name == "" {
				return fmt.Errorf("no context is active (--context, $%s or current-context in %s)", ContextEnv, contexts.ConfigPath(os.Getenv))
			}
			c, err := f.Get(name)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "name:         %s\n", name)
			fmt.Fprintf(w, "jobmanager:   %s\n", dash(c.JobManager))
			fmt.Fprintf(w, "checkpoints:  %s\n", dash(c.Checkpoints))
			fmt.Fprintf(w, "savepoints:   %s\n", dash(c.Savepoints))
			fmt.Fprintf(w, "tls:          %s\n", tlsSummary(c))
			for _, f := range [][2]string{{"ca", c.TLS.CA}, {"cert", c.TLS.Cert}, {"key", c.TLS.Key}} {
				if f[1] != "" {
					fmt.Fprintf(w, "  %-4s        %s\n", f[0], f[1])
				}
			}
			fmt.Fprintf(w, "auth:         %s\n", authSummary(c.Auth))
			if len(c.Headers) > 0 {
				var hs []string
				for k := range c.Headers {
					hs = append(hs, k)
				}
				fmt.Fprintf(w, "headers:      %s\n", strings.Join(slices.Sorted(slices.Values(hs)), ", "))
			}
			if c.FlinkConfDir != "" {
				fmt.Fprintf(w, "flink conf:   %s\n", c.FlinkConfDir)
			}
			if len(c.Flink) > 0 {
				var ks []string
				for k := range c.Flink {
					ks = append(ks, k)
				}
				fmt.Fprintf(w, "flink keys:   %s\n", strings.Join(slices.Sorted(slices.Values(ks)), ", "))
			}
			return nil
		},
	}
	cmd.AddCommand(list, use, show)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func tlsSummary(c contexts.Context) string {
	var parts []string
	if c.TLS.CA != "" {
		parts = append(parts, "ca")
	}
	if c.TLS.Cert != "" {
		parts = append(parts, "client cert")
	}
	for k := range c.Flink {
		if strings.HasPrefix(k, "security.ssl.rest.") {
			parts = append(parts, "Flink security.ssl.rest.*")
			break
		}
	}
	if len(parts) == 0 {
		if strings.HasPrefix(c.JobManager, "https://") {
			return "system roots"
		}
		return "-"
	}
	return strings.Join(parts, ", ")
}

// authSummary says where credentials come from, never what they are.
func authSummary(a contexts.Auth) string {
	switch {
	case a.Username != "" && a.PasswordFile != "":
		return fmt.Sprintf("basic %s (password from %s)", a.Username, a.PasswordFile)
	case a.Username != "" && a.PasswordEnv != "":
		return fmt.Sprintf("basic %s (password from $%s)", a.Username, a.PasswordEnv)
	case a.Username != "":
		return "basic " + a.Username + " (no password)"
	case a.TokenFile != "":
		return "token from " + a.TokenFile
	case a.TokenEnv != "":
		return "token from $" + a.TokenEnv
	}
	return "-"
}

type contextJSON struct {
	Name        string `json:"name"`
	Current     bool   `json:"current"`
	JobManager  string `json:"jobmanager,omitempty"`
	Checkpoints string `json:"checkpoints,omitempty"`
	Savepoints  string `json:"savepoints,omitempty"`
	TLS         string `json:"tls"`
	Auth        string `json:"auth"`
}

func printContextsJSON(w io.Writer, f *contexts.File, active string) error {
	out := []contextJSON{}
	for _, n := range f.Names() {
		c := f.Contexts[n]
		out = append(out, contextJSON{Name: n, Current: n == active, JobManager: c.JobManager, Checkpoints: c.Checkpoints,
			Savepoints: c.Savepoints, TLS: tlsSummary(c), Auth: authSummary(c.Auth)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
