// Command weir is Weir's single binary: the broker, the topic and data
// tools, and the benchmark harness, each a subcommand (see `weir --help`).
//
// main stays thin: it builds the command tree (newRootCmd), runs it under a
// context that SIGINT and SIGTERM cancel, and turns an error into one
// `weir: <what failed>: <why>` line and exit code 1.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Set at build time: go build -ldflags '-X main.version=v0.1.0 -X main.commit=abc123'.
var (
	version = "dev"
	commit  = "dev"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one gets Go's default behaviour and
	// ends the process at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// printError writes err as `weir: ...` lines, one per line of the error
// (errors.Join puts each joined error on its own line).
func printError(w io.Writer, err error) {
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(w, "weir: %s\n", line)
	}
}

// newRootCmd builds the whole command tree. It holds no package state, so
// tests build a fresh tree per run.
func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "weir",
		Short: "Weir: a self-hosted Kafka platform",
		Long: `Weir is a self-hosted Kafka platform: a Kafka-compatible broker and the tools
around it, in one binary.

Commands that talk to a cluster find it through --brokers (or the
WEIR_BROKERS environment variable), and work against any Kafka cluster, not
only Weir's.`,
		Example: `  weir broker --config server.properties
  weir topic create orders --partitions 6
  seq 10 | weir produce orders
  weir consume orders --from-beginning --max-messages 10
  weir bench compare --quick`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringSliceVarP(&g.brokers, "brokers", "b", defaultBrokers(),
		"Kafka bootstrap brokers, host:port, comma separated (env WEIR_BROKERS)")
	root.PersistentFlags().StringVar(&g.commandConfig, "command-config", os.Getenv("WEIR_COMMAND_CONFIG"),
		"client config file with security settings: security.protocol, sasl.*, ssl.* (env WEIR_COMMAND_CONFIG)")
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newBrokerCmd(),
		newUpCmd(),
		newTopicCmd(g),
		newGroupCmd(g),
		newTxnCmd(g),
		newProduceCmd(g),
		newConsumeCmd(g),
		newBenchCmd(g),
		newAgentCmd(),
		newCollectorCmd(g),
		newAutoscalerCmd(),
		newRebalanceCmd(),
		newClusterCmd(),
		newUserCmd(g),
		newACLCmd(g),
		newVersionCmd(),
	)
	return root
}
