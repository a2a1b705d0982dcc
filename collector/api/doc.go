// Package api serves Cruise Control's REST API under /kafkacruisecontrol/,
// so cccli, cruise-control-ui and scripts written for Cruise Control work
// against Weir's collector: the same endpoints, parameter names and
// defaults (dryrun=true), JSON shapes and units (MB, KB/s, percent), and
// the same asynchronous protocol.
//
// The asynchronous protocol (Cruise Control's UserTaskManager): a request
// that plans or executes becomes a user task with a UUID. If it finishes
// within the block time (webserver.request.maxBlockTimeMs) the answer is
// 200 with the result; otherwise 202 with a progress body, the task's id
// in the User-Task-ID header and a session cookie. The client asks again,
// with that header or with the same session and URL, and gets 202 until
// the result is ready, then 200 with it. user_tasks lists the tasks.
//
// Errors are Cruise Control's: 400 for a bad request (unknown parameter,
// bad value, unknown goal, impossible removal), 404 for an unknown
// endpoint, 405 for the wrong method, 500 otherwise, each with the body
// {"errorMessage": ..., "stackTrace": "", "version": 1}.
//
// Files: api.go (Server, routing, responses), params.go (parameter
// parsing), usertask.go (the asynchronous protocol), render.go (model →
// Cruise Control's JSON), plan.go (model + request → proposal), and one
// file per endpoint.
package api
