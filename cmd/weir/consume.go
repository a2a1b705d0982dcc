package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeFlags are `weir consume`'s options.
type consumeFlags struct {
	topic         string
	fromBeginning bool
	offset        int64
	partition     int32
	maxMessages   int
	printKey      bool
	keySeparator  string
	group         string
}

func newConsumeCmd(g *globals) *cobra.Command {
	var cf consumeFlags
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print the records of a topic, one value per line",
		Long: `Consume TOPIC and print each record's value on its own line. By default it
starts at the end of each partition and prints new records until Ctrl-C;
--from-beginning starts at the start, --offset N at offset N. With
--max-messages it exits after that many records. With --group it joins that
consumer group and commits what it printed.`,
		Example: `  weir consume orders --from-beginning
  weir consume orders --partition 2 --offset 100 --max-messages 10
  weir consume orders --group audit --print-key`,
		Args: oneArg("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cf.topic = args[0]
			if cf.group != "" && cmd.Flags().Changed("partition") {
				return errors.New("consume: --group and --partition do not go together (a group assigns partitions)")
			}
			if cf.fromBeginning && cmd.Flags().Changed("offset") {
				return errors.New("consume: --from-beginning and --offset do not go together")
			}
			if !cmd.Flags().Changed("offset") {
				cf.offset = -1
			}
			return runConsume(cmd.Context(), g, cf, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&cf.fromBeginning, "from-beginning", false, "start at the first record instead of the end")
	cmd.Flags().Int64Var(&cf.offset, "offset", 0, "start at this offset (in every partition read)")
	cmd.Flags().Int32Var(&cf.partition, "partition", -1, "read only this partition (-1: all)")
	cmd.Flags().IntVar(&cf.maxMessages, "max-messages", 0, "exit after this many records (0: run until Ctrl-C)")
	cmd.Flags().BoolVar(&cf.printKey, "print-key", false, "print the key before the value")
	cmd.Flags().StringVar(&cf.keySeparator, "key-separator", "\t", "what separates key and value with --print-key")
	cmd.Flags().StringVar(&cf.group, "group", "", "consume as a member of this consumer group, committing offsets")
	return cmd
}

// startOffset is where reading begins.
func (cf consumeFlags) startOffset() kgo.Offset {
	switch {
	case cf.offset >= 0:
		return kgo.NewOffset().At(cf.offset)
	case cf.fromBeginning:
		return kgo.NewOffset().AtStart()
	}
	return kgo.NewOffset().AtEnd()
}

// clientOpts returns the kgo options for cf's way of consuming.
func (cf consumeFlags) clientOpts() []kgo.Opt {
	start := cf.startOffset()
	switch {
	case cf.group != "":
		return []kgo.Opt{kgo.ConsumerGroup(cf.group), kgo.ConsumeTopics(cf.topic), kgo.ConsumeResetOffset(start), kgo.DisableAutoCommit()}
	case cf.partition >= 0:
		return []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cf.topic: {cf.partition: start}})}
	}
	return []kgo.Opt{kgo.ConsumeTopics(cf.topic), kgo.ConsumeResetOffset(start)}
}

func runConsume(ctx context.Context, g *globals, cf consumeFlags, stdout io.Writer) error {
	cl, err := g.client(cf.clientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	printed := 0
	for cf.maxMessages <= 0 || printed < cf.maxMessages {
		limit := -1
		if cf.maxMessages > 0 {
			limit = cf.maxMessages - printed
		}
		fetches := cl.PollRecords(ctx, limit)
		if ctx.Err() != nil {
			return nil // Ctrl-C: a normal end
		}
		if err := fatalFetchError(fetches); err != nil {
			return fmt.Errorf("consuming %s: %w", cf.topic, err)
		}
		for _, r := range fetches.Records() {
			writeRecord(out, r, cf)
			printed++
		}
		if err := out.Flush(); err != nil {
			return fmt.Errorf("writing records: %w", err)
		}
		if cf.group != "" {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("committing offsets of group %s: %w", cf.group, err)
			}
		}
	}
	return nil
}

func writeRecord(w *bufio.Writer, r *kgo.Record, cf consumeFlags) {
	if cf.printKey {
		w.Write(r.Key)
		w.WriteString(cf.keySeparator)
	}
	w.Write(r.Value)
	w.WriteByte('\n')
}

// fatalFetchError returns the first fetch error; kgo retries the
// retriable ones itself and reports only what it gives up on.
func fatalFetchError(fetches kgo.Fetches) error {
	var first error
	fetches.EachError(func(t string, p int32, err error) {
		if first == nil && !errors.Is(err, context.Canceled) {
			first = fmt.Errorf("partition %d: %w", p, err)
		}
	})
	return first
}
