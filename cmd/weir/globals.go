package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// globals are the flags every cluster command shares.
type globals struct {
	brokers []string
	// commandConfig is a client config file with security settings
	// (commandconfig.go).
	commandConfig string
}

// defaultBrokers is WEIR_BROKERS if set, else localhost:9092.
func defaultBrokers() []string {
	if env := os.Getenv("WEIR_BROKERS"); env != "" {
		return strings.Split(env, ",")
	}
	return []string{"localhost:9092"}
}

// client returns a kgo client for the --brokers cluster.
func (g *globals) client(opts ...kgo.Opt) (*kgo.Client, error) {
	if len(g.brokers) == 0 {
		return nil, fmt.Errorf("no brokers given (--brokers or WEIR_BROKERS)")
	}
	if g.commandConfig != "" {
		props, err := readProperties(g.commandConfig)
		if err != nil {
			return nil, fmt.Errorf("--command-config: %w", err)
		}
		sec, err := securityOpts(props)
		if err != nil {
			return nil, fmt.Errorf("--command-config %s: %w", g.commandConfig, err)
		}
		opts = append(sec, opts...)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(g.brokers...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating a client for %s: %w", strings.Join(g.brokers, ","), err)
	}
	return cl, nil
}

// admin returns an admin client; close it with its Close.
func (g *globals) admin() (*kadm.Client, error) {
	cl, err := g.client()
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// flagError makes cobra's flag parsing errors say which command and where
// to look.
func flagError(cmd *cobra.Command, err error) error {
	return fmt.Errorf("%s: %w (see '%s --help')", cmdName(cmd), err, cmd.CommandPath())
}

// cmdName is the command's path without the leading "weir", which every
// error line already starts with.
func cmdName(cmd *cobra.Command) string {
	path := cmd.CommandPath()
	if i := strings.IndexByte(path, ' '); i >= 0 {
		return path[i+1:]
	}
	return path
}

// needArgs accepts at least one positional argument, named what in the error.
func needArgs(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return fmt.Errorf("%s: missing %s (usage: %s)", cmdName(cmd), what, cmd.UseLine())
		}
		return nil
	}
}

// oneArg accepts exactly one positional argument, named what in the error.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%s: want exactly one %s, got %d arguments (usage: %s)", cmdName(cmd), what, len(args), cmd.UseLine())
		}
		return nil
	}
}

// parseKV parses repeated key=value flags into a map; flag names the flag
// for errors.
func parseKV(pairs []string, flag string) (map[string]string, error) {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want key=value", flag, p)
		}
		out[k] = v
	}
	return out, nil
}

// outputFlag registers --output on cmd.
func outputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", "table", "output format: table or json")
}

// checkOutput validates an --output value.
func checkOutput(format string) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("--output %q: want table or json", format)
	}
	return nil
}

// writeJSON prints v indented.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// withTimeout bounds an admin command; 0 means no bound.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
