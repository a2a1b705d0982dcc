package monitor

import (
	"fmt"
	"time"
)

// A completed window is valid when it holds at least one sample and the
// share of counted partitions with at least MinSamplesPerPartitionWindow
// samples in it is at least MinValidPartitionRatio. Counted are the
// metadata's partitions, internal topics' included, but not the samples
// topic's own: agents may filter it out, and a model must not wait for
// the load of its own input.

// windowInfo is one completed window's validity.
type windowInfo struct {
	index           int64
	samples         int
	validPartitions int
	ratio           float64
	valid           bool
}

// completeness is what the kept windows add up to.
type completeness struct {
	windows         []windowInfo // completed windows, oldest first
	valid           []int64      // the valid ones
	total           int          // counted partitions
	validPartitions int          // counted partitions valid in every valid window
	ratio           float64      // validPartitions ÷ total
}

// evaluate judges the completed windows as of now against the partitions
// that count.
func (w *windows) evaluate(now time.Time, counted []tp) completeness {
	c := completeness{total: len(counted)}
	for _, i := range w.completed(now) {
		wi := windowInfo{index: i}
		wi.samples, _ = w.counts.get(i)
		for _, k := range counted {
			if w.validIn(k, i) {
				wi.validPartitions++
			}
		}
		wi.ratio = ratio(wi.validPartitions, len(counted))
		wi.valid = wi.samples > 0 && wi.ratio >= w.cfg.MinValidPartitionRatio
		if wi.valid {
			c.valid = append(c.valid, i)
		}
		c.windows = append(c.windows, wi)
	}
	c.validPartitions = w.validEverywhere(counted, c)
	c.ratio = ratio(c.validPartitions, len(counted))
	return c
}

// validEverywhere counts the partitions valid in every valid window; with
// no valid window, those valid in the newest completed one.
func (w *windows) validEverywhere(counted []tp, c completeness) int {
	check := c.valid
	if len(check) == 0 {
		if len(c.windows) == 0 {
			return 0
		}
		return c.windows[len(c.windows)-1].validPartitions
	}
	n := 0
	for _, k := range counted {
		ok := true
		for _, i := range check {
			ok = ok && w.validIn(k, i)
		}
		if ok {
			n++
		}
	}
	return n
}

func ratio(n, total int) float64 {
	if total == 0 {
		return 1
	}
	return float64(n) / float64(total)
}

// NotEnoughDataError is Model's error while the windows cannot make a
// model yet.
type NotEnoughDataError struct {
	ValidWindows, Needed             int
	ValidPartitionRatio, NeededRatio float64
	// Wait estimates how long until enough windows could be valid: the
	// rest of the open window, then one window per missing one.
	Wait time.Duration
}

func (e *NotEnoughDataError) Error() string {
	return fmt.Sprintf("not enough load samples for a model yet: %d of %d valid windows needed, %.1f%% of partitions monitored (%.1f%% needed); about %v until enough",
		e.ValidWindows, e.Needed, e.ValidPartitionRatio*100, e.NeededRatio*100, e.Wait)
}

// notEnough returns the error for c as of now.
func (w *windows) notEnough(c completeness, now time.Time) *NotEnoughDataError {
	length := w.cfg.PartitionWindow
	openEnd := windowStart(windowIndex(now, length)+1, length)
	missing := w.cfg.MinValidWindows - len(c.valid)
	wait := openEnd.Sub(now) + time.Duration(max(missing-1, 0))*length
	return &NotEnoughDataError{ValidWindows: len(c.valid), Needed: w.cfg.MinValidWindows,
		ValidPartitionRatio: c.ratio, NeededRatio: w.cfg.MinValidPartitionRatio, Wait: wait.Round(time.Second)}
}
