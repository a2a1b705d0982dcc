package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/server"
)

// brokerFlags are `weir broker`'s options.
type brokerFlags struct {
	configPath string
	overrides  []string
	logFormat  string
	logLevel   string
}

func newBrokerCmd() *cobra.Command {
	var bf brokerFlags
	cmd := &cobra.Command{
		Use:   "broker [--config FILE] [--override KEY=VALUE]...",
		Short: "Run a Weir broker",
		Long: `Run a Weir broker: a Kafka-protocol server with its admin HTTP endpoint
(/metrics, /healthz, /readyz). The config file uses Kafka's server.properties
names (node.id, listeners, log.dirs, num.partitions, ...); --override sets
single keys on top of it. Without --config the defaults apply.

The broker runs until SIGINT or SIGTERM, then shuts down cleanly. Logs go to
standard error.`,
		Example: `  weir broker --config config/server.properties
  weir broker --config server.properties --override node.id=2 --override listeners=PLAINTEXT://:9093
  weir broker --log-format json --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBroker(cmd.Context(), cmd.ErrOrStderr(), bf)
		},
	}
	cmd.Flags().StringVarP(&bf.configPath, "config", "c", "", "broker config file, server.properties style (empty: defaults)")
	cmd.Flags().StringArrayVar(&bf.overrides, "override", nil, "config key=value that wins over the file (repeatable)")
	cmd.Flags().StringVar(&bf.logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&bf.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

func runBroker(ctx context.Context, stderr io.Writer, bf brokerFlags) error {
	logger, err := newLogger(stderr, bf.logFormat, bf.logLevel)
	if err != nil {
		return err
	}
	overrides, err := parseKV(bf.overrides, "--override")
	if err != nil {
		return fmt.Errorf("loading broker config: %w", err)
	}
	cfg, err := config.Load(bf.configPath, overrides)
	if err != nil {
		return fmt.Errorf("loading broker config: %w", err)
	}
	if err := cfg.PrepareLogDirs(); err != nil {
		return fmt.Errorf("preparing log dirs: %w", err)
	}
	b, err := server.New(cfg, server.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("starting broker: %w", err)
	}
	attrs := []any{"kafka", b.Addr().String()}
	if admin := b.AdminAddr(); admin != nil {
		attrs = append(attrs, "admin", admin.String())
	}
	logger.Info("broker listening", attrs...)
	if err := b.Run(ctx); err != nil {
		return fmt.Errorf("running broker: %w", err)
	}
	logger.Info("broker stopped")
	return nil
}

// newLogger returns a slog logger writing text or JSON to w at level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
