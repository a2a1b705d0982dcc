package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/bench"
)

// produceFlags are `weir produce`'s options.
type produceFlags struct {
	topic        string
	keySeparator string
	partition    int32
	acks         string
}

func newProduceCmd(g *globals) *cobra.Command {
	var pf produceFlags
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce records from standard input, one per line",
		Long: `Read standard input and produce one record per line to TOPIC (the line
without its newline is the value). With --key-separator, the text before the
first separator is the record's key and the rest its value. A summary goes to
standard error at the end; any record that failed makes the command fail.`,
		Example: `  echo hello | weir produce greetings
  printf 'user1:clicked\nuser2:bought\n' | weir produce events --key-separator :
  weir produce events --partition 0 --acks 1 < events.txt`,
		Args: oneArg("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pf.topic = args[0]
			return runProduce(cmd.Context(), g, pf, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&pf.keySeparator, "key-separator", "", "split each line at the first SEP into key and value (empty: no key)")
	cmd.Flags().Int32Var(&pf.partition, "partition", -1, "produce to this partition only (-1: the default partitioner)")
	cmd.Flags().StringVar(&pf.acks, "acks", "all", "acknowledgements to wait for: all, 1 or 0")
	return cmd
}

// produceTally counts what the promises reported.
type produceTally struct {
	mu       sync.Mutex
	ok       int64
	bytes    int64
	failed   int64
	firstErr error
}

func (t *produceTally) promise(r *kgo.Record, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failed++
		if t.firstErr == nil {
			t.firstErr = err
		}
		return
	}
	t.ok++
	t.bytes += int64(len(r.Key) + len(r.Value))
}

func runProduce(ctx context.Context, g *globals, pf produceFlags, in io.Reader, stderr io.Writer) error {
	acks, err := bench.ParseAcks(pf.acks)
	if err != nil {
		return fmt.Errorf("producing to %s: %w", pf.topic, err)
	}
	opts := []kgo.Opt{kgo.DefaultProduceTopic(pf.topic), kgo.RequiredAcks(acks)}
	if pf.acks != "all" && pf.acks != "-1" {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if pf.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := g.client(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	start := time.Now()
	var tally produceTally
	readErr := produceLines(ctx, cl, pf, in, &tally)
	flushErr := cl.Flush(ctx)
	tally.mu.Lock()
	defer tally.mu.Unlock()
	fmt.Fprintf(stderr, "produced %d records (%d bytes) to %s in %s", tally.ok, tally.bytes, pf.topic, time.Since(start).Round(time.Millisecond))
	if tally.failed > 0 {
		fmt.Fprintf(stderr, ", %d failed", tally.failed)
	}
	fmt.Fprintln(stderr)
	switch {
	case readErr != nil:
		return fmt.Errorf("reading standard input: %w", readErr)
	case tally.firstErr != nil:
		return fmt.Errorf("producing to %s: %d records failed, the first with: %w", pf.topic, tally.failed, tally.firstErr)
	case flushErr != nil:
		return fmt.Errorf("producing to %s: %w", pf.topic, flushErr)
	}
	return nil
}

// produceLines produces one record per line of in.
func produceLines(ctx context.Context, cl *kgo.Client, pf produceFlags, in io.Reader, tally *produceTally) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		r := lineRecord(sc.Text(), pf.keySeparator)
		r.Partition = pf.partition
		cl.Produce(ctx, r, tally.promise)
	}
	return sc.Err()
}

// lineRecord makes a record of one input line.
func lineRecord(line, sep string) *kgo.Record {
	if sep != "" {
		if k, v, ok := strings.Cut(line, sep); ok {
			return &kgo.Record{Key: []byte(k), Value: []byte(v)}
		}
	}
	return &kgo.Record{Value: []byte(line)}
}
