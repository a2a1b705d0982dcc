package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Cruise Control's user task statuses.
const (
	taskActive             = "Active"
	taskInExecution        = "InExecution"
	taskCompleted          = "Completed"
	taskCompletedWithError = "CompletedWithError"
)

// userTaskHeader carries a task's id both ways.
const userTaskHeader = "User-Task-ID"

// sessionCookie ties a client's repeated request to its task, as the
// servlet session does in Cruise Control (cccli keeps cookies).
const sessionCookie = "JSESSIONID"

// userTask is one asynchronous request.
type userTask struct {
	id, endpoint, requestURL, client string
	start                            time.Time
	done                             chan struct{}
	// Set before done is closed; read after.
	result any
	err    error
	// Guarded by tasks.mu.
	status    string
	step      string
	delivered bool
	finished  time.Time
}

// sessionKey is a session and the request it made.
type sessionKey struct{ session, request string }

// tasks is the user task manager.
type tasks struct {
	ctx       context.Context // cancelled by Close: tasks stop
	wg        sync.WaitGroup
	retention time.Duration
	maxActive int
	now       func() time.Time

	mu       sync.Mutex
	byID     map[string]*userTask
	sessions map[sessionKey]string
}

func newTasks(ctx context.Context, retention time.Duration, maxActive int, now func() time.Time) *tasks {
	return &tasks{ctx: ctx, retention: retention, maxActive: maxActive, now: now,
		byID: map[string]*userTask{}, sessions: map[sessionKey]string{}}
}

// find returns the task a request refers to: by its User-Task-ID header,
// else by its session and URL. A header naming no task is an error.
func (m *tasks) find(r *http.Request) (*userTask, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire()
	if id := r.Header.Get(userTaskHeader); id != "" {
		t, ok := m.byID[id]
		if !ok {
			return nil, userErr("there is no user task with id %s (completed tasks are kept %v)", id, m.retention)
		}
		return t, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if id, ok := m.sessions[sessionKey{c.Value, requestLine(r)}]; ok {
			return m.byID[id], nil
		}
	}
	return nil, nil
}

// start runs fn as a new task of the request's session.
func (m *tasks) start(w http.ResponseWriter, r *http.Request, endpoint string, fn func(ctx context.Context, t *userTask) (any, error)) (*userTask, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.active(); n >= m.maxActive {
		return nil, userErr("there are already %d active user tasks, the maximum (max.active.user.tasks)", n)
	}
	t := &userTask{id: newUUID(), endpoint: endpoint, requestURL: requestLine(r), client: clientOf(r),
		start: m.now(), done: make(chan struct{}), status: taskActive}
	m.byID[t.id] = t
	m.sessions[sessionKey{session(w, r), t.requestURL}] = t.id
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		res, err := fn(m.ctx, t)
		m.finish(t, res, err)
	}()
	return t, nil
}

func (m *tasks) finish(t *userTask, res any, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.result, t.err, t.finished = res, err, m.now()
	if err != nil {
		t.status = taskCompletedWithError
	} else if t.status != taskInExecution {
		t.status = taskCompleted
	}
	close(t.done)
}

// setStatus marks a task InExecution (its proposal is being executed) or
// Completed when the execution ends.
func (m *tasks) setStatus(id, status string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.byID[id]; ok {
		t.status = status
	}
}

// setStep records what a running task is doing, for its 202 answers.
func (m *tasks) setStep(t *userTask, step string) {
	m.mu.Lock()
	t.step = step
	m.mu.Unlock()
}

// active counts the tasks not finished. m.mu held.
func (m *tasks) active() int {
	n := 0
	for _, t := range m.byID {
		if t.finished.IsZero() {
			n++
		}
	}
	return n
}

// expire drops finished tasks older than the retention. m.mu held.
func (m *tasks) expire() {
	cut := m.now().Add(-m.retention)
	for id, t := range m.byID {
		if !t.finished.IsZero() && t.finished.Before(cut) && t.status != taskInExecution {
			delete(m.byID, id)
		}
	}
	for k, id := range m.sessions {
		if _, ok := m.byID[id]; !ok {
			delete(m.sessions, k)
		}
	}
}

// delivered forgets the session's mapping once a finished result went
// out, so the same request from the same session starts a new task.
func (m *tasks) deliver(t *userTask) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.delivered = true
	for k, id := range m.sessions {
		if id == t.id {
			delete(m.sessions, k)
		}
	}
}

// list returns the tasks, oldest first.
func (m *tasks) list() []taskInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire()
	out := make([]taskInfo, 0, len(m.byID))
	for _, t := range m.byID {
		out = append(out, taskInfo{t: t, status: t.status, step: t.step})
	}
	slices.SortFunc(out, func(a, b taskInfo) int { return a.t.start.Compare(b.t.start) })
	return out
}

// taskInfo is a task and its status read under the lock.
type taskInfo struct {
	t            *userTask
	status, step string
}

// close cancels running tasks and waits for them.
func (m *tasks) wait() { m.wg.Wait() }

// session returns the request's session id, setting a new cookie if it
// has none.
func session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return c.Value
	}
	id := newUUID()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true})
	return id
}

// requestLine is Cruise Control's RequestURL: method, path and query.
func requestLine(r *http.Request) string {
	u := r.URL.Path
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return r.Method + " " + u
}

func clientOf(r *http.Request) string {
	if f := r.Header.Get("X-Forwarded-For"); f != "" {
		return f
	}
	return r.RemoteAddr
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:])
}
