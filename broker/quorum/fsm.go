package quorum

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// FSM is the raft state machine over the Image. raft calls Apply,
// ApplyBatch, Snapshot and Restore on its one FSM goroutine; Image and
// Watch may be called from any goroutine.
type FSM struct {
	img atomic.Pointer[Image]

	mu struct {
		sync.Mutex
		// changed is closed (and replaced) when a new image is published.
		changed chan struct{}
	}
}

// NewFSM returns an FSM holding the empty image.
func NewFSM() *FSM {
	f := &FSM{}
	f.img.Store(EmptyImage())
	f.mu.changed = make(chan struct{})
	return f
}

// Image returns the current image. It never changes; a newer one replaces it.
func (f *FSM) Image() *Image { return f.img.Load() }

// Watch returns the current image and a channel closed as soon as a newer
// image is published. Call Watch again after the channel closes:
//
//	for {
//		img, changed := f.Watch()
//		use(img)
//		select { case <-changed: case <-ctx.Done(): return }
//	}
func (f *FSM) Watch() (*Image, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.img.Load(), f.mu.changed
}

func (f *FSM) publish(img *Image) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.img.Store(img)
	close(f.mu.changed)
	f.mu.changed = make(chan struct{})
}

// Result is what Apply returns for each command entry: the command's
// result value, or its error.
type Result struct {
	Value any
	Err   error
}

// Apply applies one log entry (raft uses ApplyBatch; this is for
// completeness of raft.FSM).
func (f *FSM) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch applies committed entries in order and publishes at most one
// new image for the whole batch.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	base := f.img.Load()
	img := base
	out := make([]any, len(logs))
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		var r Result
		img, r = applyEntry(img, l.Data, l.Index)
		out[i] = r
	}
	if img != base {
		f.publish(img)
	}
	return out
}

// applyEntry decodes and applies one command entry.
func applyEntry(img *Image, data []byte, index uint64) (*Image, Result) {
	c, err := Decode(data)
	if err != nil {
		return img, Result{Err: fmt.Errorf("entry %d: %w", index, err)}
	}
	next, v, err := applyCommand(img, c, index)
	return next, Result{Value: v, Err: err}
}

// snapshotFormat is the first byte of a snapshot.
const snapshotFormat byte = 1

// Snapshot captures the current image; it is immutable, so persisting it
// needs no lock and may run while new entries are applied.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	return imageSnapshot{img: f.img.Load()}, nil
}

// Restore replaces the state with a snapshot written by Snapshot.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	img, err := ReadSnapshot(rc)
	if err != nil {
		return err
	}
	f.publish(img)
	return nil
}

// WriteSnapshot writes img in the snapshot format: one format byte, then
// the image as JSON.
func WriteSnapshot(w io.Writer, img *Image) error {
	if _, err := w.Write([]byte{snapshotFormat}); err != nil {
		return fmt.Errorf("writing metadata snapshot: %w", err)
	}
	if err := json.NewEncoder(w).Encode(img); err != nil {
		return fmt.Errorf("writing metadata snapshot: %w", err)
	}
	return nil
}

// ReadSnapshot reads a snapshot written by WriteSnapshot.
func ReadSnapshot(r io.Reader) (*Image, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("reading metadata snapshot: %w", err)
	}
	if b[0] != snapshotFormat {
		return nil, fmt.Errorf("reading metadata snapshot: unknown format %d", b[0])
	}
	img := EmptyImage()
	if err := json.NewDecoder(r).Decode(img); err != nil {
		return nil, fmt.Errorf("decoding metadata snapshot: %w", err)
	}
	if img.Brokers == nil {
		img.Brokers = map[int32]Broker{}
	}
	if img.Topics == nil {
		img.Topics = map[string]*Topic{}
	}
	img.rebuildIndex()
	return img, nil
}

type imageSnapshot struct{ img *Image }

func (s imageSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := WriteSnapshot(sink, s.img); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (imageSnapshot) Release() {}
