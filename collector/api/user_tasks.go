package api

import (
	"context"
	"fmt"
	"github.com/weirhq/weir/collector/executor"
	"slices"
	"strings"
	"time"
)

// userTaskInfo is Cruise Control's UserTaskInfo.
type userTaskInfo struct {
	UserTaskID       string `json:"UserTaskId"`
	RequestURL       string `json:"RequestURL"`
	ClientIdentity   string `json:"ClientIdentity"`
	StartMs          int64  `json:"StartMs"`
	Status           string `json:"Status"`
	OriginalResponse any    `json:"originalResponse,omitempty"`
}

type userTaskState struct {
	UserTasks []userTaskInfo `json:"userTasks"`
	Version   int            `json:"version"`
}

// user_tasks (GET): the user tasks, filtered by user_task_ids, client_ids,
// endpoints and types (Active, InExecution, Completed,
// CompletedWithError), newest entries last, at most entries.
func (s *Server) userTasksEndpoint() endpoint {
	return endpoint{name: "user_tasks", method: "GET",
		params: []string{"user_task_ids", "client_ids", "endpoints", "types", "entries", "fetch_completed_task"},
		handle: func(ctx context.Context, p *params, _ *userTask) (any, error) {
			s.settleExecutions()
			return s.userTasks(p)
		}}
}

func (s *Server) userTasks(p *params) (*userTaskState, error) {
	entries, err := p.integer("entries", 0)
	if err != nil {
		return nil, err
	}
	withResult, err := p.boolean("fetch_completed_task", false)
	if err != nil {
		return nil, err
	}
	ids, clients, eps, types := p.list("user_task_ids"), p.list("client_ids"), lower(p.list("endpoints")), lower(p.list("types"))
	out := &userTaskState{Version: 1, UserTasks: []userTaskInfo{}}
	for _, ti := range s.tasks.list() {
		t := ti.t
		if !match(ids, t.id) || !match(clients, t.client) || !match(eps, t.endpoint) || !match(types, strings.ToLower(ti.status)) {
			continue
		}
		info := userTaskInfo{UserTaskID: t.id, RequestURL: t.requestURL, ClientIdentity: t.client, StartMs: t.start.UnixMilli(), Status: ti.status}
		if withResult && ti.status != taskActive {
			info.OriginalResponse = resultOf(t)
		}
		out.UserTasks = append(out.UserTasks, info)
	}
	if entries > 0 && len(out.UserTasks) > int(entries) {
		out.UserTasks = out.UserTasks[len(out.UserTasks)-int(entries):]
	}
	return out, nil
}

func resultOf(t *userTask) any {
	if t.err != nil {
		return map[string]any{"errorMessage": t.err.Error()}
	}
	return t.result
}

// settleExecutions marks InExecution tasks Completed once the executor no
// longer runs them.
func (s *Server) settleExecutions() {
	st := s.o.Executor.State()
	for _, ti := range s.tasks.list() {
		if ti.status == taskInExecution && (st.TaskID != ti.t.id || st.Phase == executor.PhaseIdle) {
			s.tasks.setStatus(ti.t.id, taskCompleted)
		}
	}
}

func match(filter []string, v string) bool { return len(filter) == 0 || slices.Contains(filter, v) }

func lower(s []string) []string {
	for i := range s {
		s[i] = strings.ToLower(s[i])
	}
	return s
}

// Text lists the tasks.
func (u *userTaskState) Text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-38s%-22s%-26s%-20s%s\n", "USER TASK ID", "CLIENT ADDRESS", "START TIME", "STATUS", "REQUEST URL")
	for _, t := range u.UserTasks {
		start := time.UnixMilli(t.StartMs).UTC().Format("2006-01-02T15:04:05.000Z")
		fmt.Fprintf(&sb, "%-38s%-22s%-26s%-20s%s\n", t.UserTaskID, t.ClientIdentity, start, t.Status, t.RequestURL)
	}
	return sb.String()
}
