package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/weirhq/weir/collector/ccclient"
)

// follow draws the execution's progress until the executor is idle: one
// line redrawn on a terminal, a new line at each change elsewhere.
func follow(ctx context.Context, c *ccclient.Client, w io.Writer) error {
	var last ccclient.ExecutorState
	tty, prev := isTerminal(w), ""
	for {
		var st ccclient.State
		if err := c.Do(ctx, "GET", "state", url.Values{"substates": {"executor"}}, &st); err != nil {
			return fmt.Errorf("following the execution: %w", err)
		}
		if st.Executor.Idle() {
			if tty {
				fmt.Fprint(w, "\r")
			}
			fmt.Fprintln(w, progressLine(&last, true))
			if st.Executor != nil && st.Executor.LastResult != "" {
				fmt.Fprintln(w, st.Executor.LastResult)
			}
			if st.Executor != nil && st.Executor.Error != "" {
				return fmt.Errorf("the execution ended with an error: %s", st.Executor.Error)
			}
			return nil
		}
		last = *st.Executor
		if line := progressLine(&last, false); tty {
			fmt.Fprintf(w, "\r%s", line)
		} else if line != prev {
			fmt.Fprintln(w, line)
			prev = line
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, "\nstopped following; the execution goes on ('weir rebalance stop' stops it)")
			return nil
		case <-time.After(time.Second):
		}
	}
}

func progressLine(e *ccclient.ExecutorState, done bool) string {
	frac := 1.0
	if e.TotalDataMB > 0 && !done {
		frac = e.FinishedDataMB / e.TotalDataMB
	} else if e.TotalPartitions > 0 && !done {
		frac = float64(e.FinishedPartitions) / float64(e.TotalPartitions)
	}
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("#", n) + strings.Repeat(" ", width-n)
	eta := ""
	if e.ETASeconds > 0 && !done {
		eta = fmt.Sprintf("  ETA %s", (time.Duration(e.ETASeconds) * time.Second).String())
	}
	return fmt.Sprintf("[%s] %3.0f%%  partitions %d/%d  leaders %d/%d  data %.1f/%.1f MB%s   ", bar, frac*100,
		e.FinishedPartitions, e.TotalPartitions, e.FinishedLeaderships, e.TotalLeaderships, e.FinishedDataMB, e.TotalDataMB, eta)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
