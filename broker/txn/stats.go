package txn

import "time"

// Stats is what the coordinator's metrics report (the broker reads it at
// scrape time): ids per state in the loaded partitions, transactions
// completed since the coordinator started, and how long loads took.
type Stats struct {
	States    map[State]int
	Committed int64 // CompleteCommit stored
	Aborted   int64 // CompleteAbort stored
	Loads     int
	LoadTime  time.Duration // the loads' total
}

// Stats returns the current figures.
func (c *Coordinator) Stats() Stats {
	st := Stats{States: map[State]int{}}
	for _, t := range c.loaded() {
		t.mu.Lock()
		if !t.gone {
			st.States[t.meta.state]++
		}
		t.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st.Committed, st.Aborted, st.Loads, st.LoadTime = c.mu.committed, c.mu.aborted, c.mu.loads, c.mu.loadTime
	return st
}

// completed counts a transaction that reached s.
func (c *Coordinator) completed(s State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == CompleteCommit {
		c.mu.committed++
	} else {
		c.mu.aborted++
	}
}

// loadDone counts a finished load.
func (c *Coordinator) loadDone(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.loads++
	c.mu.loadTime += d
}
