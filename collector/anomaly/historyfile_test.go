package anomaly

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// restartable is a Manager over a history file with a settable clock and
// a fake executor; restart builds a new one over the same file, as a
// collector restarted (after a kill -9: nothing is saved at exit) does.
type restartable struct {
	t    *testing.T
	path string
	cfg  Config
	now  time.Time
	exe  *fakeExecutor
	logs *bytes.Buffer
	m    *Manager
}

func newRestartable(t *testing.T, cfg Config) *restartable {
	r := &restartable{t: t, path: filepath.Join(t.TempDir(), "anomalies.json"), cfg: cfg, now: epoch, exe: &fakeExecutor{}}
	r.restart(0)
	return r
}

// restart starts a new Manager over the file after d.
func (r *restartable) restart(d time.Duration) {
	r.t.Helper()
	r.now = r.now.Add(d)
	c := testCluster(4, part("t", 0, 100, 4, 1, 2), part("t", 1, 100, 1, 2, 3))
	c.Brokers[3].State = model.Dead
	r.logs = &bytes.Buffer{}
	m, err := New(Options{Config: r.cfg, Monitor: &fakeMonitor{c: c}, Executor: r.exe, HistoryFile: r.path,
		Logger: slog.New(slog.NewTextHandler(r.logs, nil)), Now: func() time.Time { return r.now }})
	if err != nil {
		r.t.Fatal(err)
	}
	r.m = m
}

// step runs one round at d after the epoch on o, starting (and reporting)
// the fix it returns, and saves, as Manager.round does.
func (r *restartable) step(d time.Duration, o Observation) {
	r.t.Helper()
	r.now = epoch.Add(d)
	o.Time = r.now
	r.m.mu.Lock()
	fix := r.m.mu.det.Step(&o)
	r.m.mu.Unlock()
	r.m.save()
	if fix != nil {
		r.m.heal(context.Background(), fix)
	}
}

// file is the history file's record as written.
func (r *restartable) file() historyRecord {
	r.t.Helper()
	b, err := os.ReadFile(r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	var rec historyRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		r.t.Fatal(err)
	}
	return rec
}

// deadBroker4 is broker 4 failed, holding a replica of t-0.
func deadBroker4() Observation {
	return Observation{Alive: map[int32]bool{1: true, 2: true, 3: true},
		Partitions: []PartitionState{{Topic: "t", Partition: 0, Replicas: []int32{4, 1, 2}}, {Topic: "t", Partition: 1, Replicas: []int32{1, 2, 3}}}}
}

func healthy() Observation {
	return Observation{Alive: map[int32]bool{1: true, 2: true, 3: true, 4: true},
		Partitions: []PartitionState{{Topic: "t", Partition: 0, Replicas: []int32{4, 1, 2}}, {Topic: "t", Partition: 1, Replicas: []int32{1, 2, 3}}}}
}

func recordBytes(t *testing.T, m *Manager) []byte {
	t.Helper()
	m.mu.Lock()
	rec := m.mu.det.record()
	m.mu.Unlock()
	b, err := encodeHistory(&rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHistoryRoundTrip: a broker failure healed and cleared, a second
// one open and waiting; after a restart the history, the numbering, the
// failure times and the cooldown are what they were, byte for byte in
// the file's form, and the file is written only when something changed.
func TestHistoryRoundTrip(t *testing.T) {
	r := newRestartable(t, DefaultConfig())
	r.step(0, deadBroker4())
	r.step(5*time.Second, deadBroker4()) // the fix starts
	r.step(6*time.Second, healthy())     // the executor is idle: the fix ended; broker 4 back
	r.step(7*time.Second, deadBroker4()) // a second failure, open
	before := r.m.Recent()
	if len(before) != 2 || before[1].Status != FixStarted || before[1].FixEnded.IsZero() || before[0].Status != CheckWithDelay {
		t.Fatalf("before the restart: %+v", before)
	}
	want := recordBytes(t, r.m)
	if got, _ := os.ReadFile(r.path); !bytes.Equal(got, want) {
		t.Fatalf("the file is not the detector's record:\n%s\nwant\n%s", got, want)
	}

	r.restart(time.Second)
	if got := recordBytes(t, r.m); !bytes.Equal(got, want) {
		t.Errorf("restored record differs:\n%s\nwant\n%s", got, want)
	}
	after := r.m.Recent()
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Status != b.Status || a.Note != b.Note || !a.Detected.Equal(b.Detected) ||
			!a.FixStarted.Equal(b.FixStarted) || !a.FixEnded.Equal(b.FixEnded) || a.Attempts != b.Attempts || a.Open() != b.Open() {
			t.Errorf("anomaly %d after the restart:\n%+v\nbefore:\n%+v", i, a, b)
		}
	}
	if st := r.m.State(); st.Open[BrokerFailure] != 1 || st.Ongoing != nil {
		t.Errorf("after the restart: open %v, ongoing %v", st.Open, st.Ongoing)
	}

	// Unchanged: not written again (a removed file stays removed).
	os.Remove(r.path)
	r.m.save()
	if _, err := os.Stat(r.path); err == nil {
		t.Error("an unchanged history was written again")
	}
	// The open failure goes on under its id, its threshold from 7 s
	// (failure times kept: due at 12 s), its fix after the cooldown that
	// began when the first fix ended at 6 s (at 16 s).
	r.step(12*time.Second, deadBroker4())
	if a := r.m.Recent()[0]; a.ID != before[0].ID || a.Status != CheckWithDelay || !strings.Contains(a.Note, "next fix at 00:00:16.000") {
		t.Errorf("at 12 s: %s %s (%s)", a.ID, a.Status, a.Note)
	}
	r.step(16*time.Second, deadBroker4())
	a := r.m.Recent()[0]
	if a.ID != before[0].ID || a.Status != FixStarted || len(r.exe.reqs) != 2 {
		t.Errorf("the open failure after the restart: %s %s (%s), %d executions", a.ID, a.Status, a.Note, len(r.exe.reqs))
	}
	if _, err := os.Stat(r.path); err != nil {
		t.Errorf("a change after the restart was not written: %v", err)
	}
}

// TestHistoryBound: the file keeps num.cached.recent.anomaly.states per
// type, and a restart with a smaller bound keeps the newest.
func TestHistoryBound(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RecentAnomalies = 3
	cfg.SetHealing(BrokerFailure, false)
	r := newRestartable(t, cfg)
	for i := range 5 { // five failures of broker 4, each cleared
		r.step(time.Duration(2*i)*time.Second, deadBroker4())
		r.step(time.Duration(2*i+1)*time.Second, healthy())
	}
	if rec := r.file(); len(rec.Anomalies) != 3 || rec.Anomalies[0].ID != "BROKER_FAILURE-3" || rec.Seq != 5 {
		t.Fatalf("file: seq %d, %d anomalies, oldest %s", rec.Seq, len(rec.Anomalies), rec.Anomalies[0].ID)
	}
	r.cfg.RecentAnomalies = 2
	r.restart(time.Second)
	got := r.m.Recent()
	if len(got) != 2 || got[0].ID != "BROKER_FAILURE-5" || got[1].ID != "BROKER_FAILURE-4" {
		t.Errorf("after a restart with 2 kept: %v", ids2(got))
	}
	r.step(20*time.Second, deadBroker4())
	if id := r.m.Recent()[0].ID; id != "BROKER_FAILURE-6" {
		t.Errorf("the next anomaly after the restart is %s, want BROKER_FAILURE-6", id)
	}
}

func ids2(as []Anomaly) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// TestHistoryUnreadable: a file that is not JSON, of another version, or
// not a file at all is logged and moved aside (.corrupt-<time>); the
// collector starts with an empty history and writes a new file.
func TestHistoryUnreadable(t *testing.T) {
	for name, write := range map[string]func(path string) error{
		"garbage":     func(p string) error { return os.WriteFile(p, []byte("{\"version\": 1, \"anomalies\": [{"), 0o644) },
		"version":     func(p string) error { return os.WriteFile(p, []byte(`{"version": 2, "anomalies": []}`), 0o644) },
		"a directory": func(p string) error { return os.Mkdir(p, 0o755) },
	} {
		t.Run(name, func(t *testing.T) {
			r := &restartable{t: t, path: filepath.Join(t.TempDir(), "anomalies.json"), cfg: DefaultConfig(), now: epoch, exe: &fakeExecutor{}}
			if err := write(r.path); err != nil {
				t.Fatal(err)
			}
			r.restart(0)
			if h := r.m.Recent(); len(h) != 0 {
				t.Errorf("history from an unreadable file: %+v", h)
			}
			aside := r.path + ".corrupt-20260101T000000.000Z"
			if _, err := os.Stat(aside); err != nil {
				t.Errorf("not moved aside: %v", err)
			}
			if !strings.Contains(r.logs.String(), "the anomaly history cannot be read") || !strings.Contains(r.logs.String(), aside) {
				t.Errorf("not logged with where it went:\n%s", r.logs)
			}
			r.step(time.Second, deadBroker4())
			if rec := r.file(); len(rec.Anomalies) != 1 {
				t.Errorf("new file: %+v", rec)
			}
		})
	}
}

// TestHistoryInterruptedFix: killed while a fix's execution ran, the
// restarted collector marks the fix interrupted (Interrupted, a note;
// the status stays FIX_STARTED) and, once the executor has recovered
// without adopting the task, ends it at the restart, which starts the
// cooldown.
func TestHistoryInterruptedFix(t *testing.T) {
	r := newRestartable(t, DefaultConfig())
	r.step(0, deadBroker4())
	r.step(5*time.Second, deadBroker4())
	if st := r.m.State(); st.Ongoing == nil {
		t.Fatal("no fix running before the kill")
	}
	r.restart(time.Second) // 6 s
	a := r.m.Recent()[0]
	if a.Status != FixStarted || !a.Interrupted.Equal(epoch.Add(6*time.Second)) || !a.FixEnded.IsZero() ||
		!strings.Contains(a.Note, "interrupted by a collector restart at 00:00:06.000") {
		t.Fatalf("restored: %s interrupted %v ended %v: %s", a.Status, a.Interrupted, a.FixEnded, a.Note)
	}
	if rec := r.file(); rec.Anomalies[0].Interrupted.IsZero() {
		t.Error("the interruption is not in the file")
	}
	r.step(7*time.Second, Observation{ExecutorRecovering: true})
	if a := r.m.Recent()[0]; !a.FixEnded.IsZero() {
		t.Fatalf("settled while the executor recovers: %s", a.Note)
	}
	r.step(8*time.Second, deadBroker4()) // recovered, the task not adopted
	a = r.m.Recent()[0]
	if !a.FixEnded.Equal(a.Interrupted) || !strings.Contains(a.Note, "none was resumed") || a.Status != FixStarted {
		t.Errorf("after recovery: %s ended %v: %s", a.Status, a.FixEnded, a.Note)
	}
	if got := r.file().LastFixEnd; !got.Equal(a.Interrupted) {
		t.Errorf("the cooldown starts at %v, want the restart", got)
	}
}

// TestHistorySwitches: self-healing turned off through the admin
// endpoint is saved before SetSelfHealing returns and is off after a
// restart; turned on again (the configuration's value) it leaves the
// file, so a restart follows the configuration.
func TestHistorySwitches(t *testing.T) {
	r := newRestartable(t, DefaultConfig())
	r.m.SetSelfHealing(nil, []Type{BrokerFailure})
	if sh := r.file().SelfHealing; len(sh) != 1 || sh["BROKER_FAILURE"] {
		t.Fatalf("file after disable: %v", sh)
	}
	r.restart(time.Second)
	if st := r.m.State(); st.SelfHealing[BrokerFailure] {
		t.Fatal("BROKER_FAILURE healing is on again after a restart")
	}
	r.step(0, deadBroker4())
	r.step(5*time.Second, deadBroker4())
	if a := r.m.Recent()[0]; a.Status != Ignored || len(r.exe.reqs) != 0 {
		t.Errorf("healed while switched off: %s %s", a.Status, a.Note)
	}
	r.m.SetSelfHealing([]Type{BrokerFailure}, nil)
	if sh := r.file().SelfHealing; len(sh) != 0 {
		t.Errorf("file after enable (the configuration's value): %v", sh)
	}
	r.restart(time.Second)
	if st := r.m.State(); !st.SelfHealing[BrokerFailure] {
		t.Error("BROKER_FAILURE healing off after enable and a restart")
	}
}

// TestHistoryWriteFails: a history file that cannot be written is logged
// once, not on every round, and never stops the detector.
func TestHistoryWriteFails(t *testing.T) {
	r := &restartable{t: t, path: filepath.Join(t.TempDir(), "missing", "anomalies.json"), cfg: DefaultConfig(), now: epoch, exe: &fakeExecutor{}}
	r.restart(0)
	r.step(0, deadBroker4())
	r.step(2*time.Second, deadBroker4())
	r.step(5*time.Second, deadBroker4())
	if n := strings.Count(r.logs.String(), "saving the anomaly history failed"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, r.logs)
	}
	if a := r.m.Recent()[0]; a.Status != FixStarted {
		t.Errorf("the detector stopped: %s %s", a.Status, a.Note)
	}
}

// FuzzHistoryFile: whatever the history file holds, a collector starts
// (restoring it or moving it aside), keeps at most
// num.cached.recent.anomaly.states per type, runs its rounds and writes a
// file it can read back.
func FuzzHistoryFile(f *testing.F) {
	d := NewDetector(DefaultConfig())
	o := deadBroker4()
	o.Time = epoch
	d.Step(&o)
	o.Time = epoch.Add(5 * time.Second)
	d.Started(d.Step(&o), "moves", o.Time) // a fix running
	rec := d.record()
	valid, err := encodeHistory(&rec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(`{"version": 1, "seq": 3, "anomalies": [{"id": "BROKER_FAILURE", "type": "broker_failure", "status": "X",
		"fix_started": "2026-01-01T00:00:05Z", "fix_task_id": "t"}, {"id": "BROKER_FAILURE-2", "type": "BROKER_FAILURE", "key": "4"}]}`))
	f.Add([]byte(`{"version": 1, "failed_brokers": {"4": "2026-01-01T00:00:00Z"}, "self_healing": {"BROKER_FAILURE": false, "NOPE": true}}`))
	f.Add([]byte(`{"version": 1, "anomalies": null}`))
	f.Add([]byte("not json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		cfg.RecentAnomalies = 2
		r := &restartable{t: t, path: filepath.Join(t.TempDir(), "anomalies.json"), cfg: cfg, now: epoch, exe: &fakeExecutor{}}
		if err := os.WriteFile(r.path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r.restart(0)
		for _, n := range r.m.State().Recent {
			if len(n) > cfg.RecentAnomalies {
				t.Fatalf("%d anomalies of a type kept, bound %d", len(n), cfg.RecentAnomalies)
			}
		}
		r.step(time.Second, Observation{ExecutorRecovering: true})
		r.step(2*time.Second, deadBroker4())
		r.step(8*time.Second, deadBroker4())
		r.step(9*time.Second, healthy())
		if _, _, err := readHistory(r.path); err != nil {
			t.Fatalf("the file written back cannot be read: %v", err)
		}
	})
}
