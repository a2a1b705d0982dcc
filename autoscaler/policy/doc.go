// Package policy is the autoscaler's pure core: policy files, validated at
// load, and Decide, which turns a metrics window, a policy, the cluster's
// state, the actions already taken and the time into actions with a reason
// and holds (decisions not to act) with a blocked reason. Nothing here reads
// a clock, a file other than the policy, or the network; all the state is
// the Input, plain data a caller can log and a test can write down.
//
// Storage (MSK's storage target tracking). A broker whose used bytes reach
// target_utilization percent of its provisioned size grows by the step,
// max(10 GiB, 10 %) unless scale_out_step is set, or to the size that brings
// it back to the target if that is more; never past max_size, never down.
// Every broker grows to the same size unless per_broker. One grow per
// cooldown (MSK: 6 h; here 5 min by default, see DefaultStorageCooldown).
//
// Broker count (Kubernetes HPA's replica calculation). For each target, the
// count a point of load asks for is ceil(total / target per broker), or the
// current count when the average is within tolerance (10 %) of the target.
// Scale out when every point in the window (5 min) asks for more, to the
// smallest of them, at most +scale_out_step and at most double. Scale in
// when every broker stays under scale_in_below (50 %) of every target and
// every point in the stabilization window (300 s) asks for fewer: to the
// highest of them, at most scale_in_step fewer. Never under min_brokers or
// an active schedule's min_brokers (a schedule raises the count at once,
// without the load window or the cooldown), never over max_brokers. Storage
// counts as a load only with storage_at_maximum once a volume is at
// max_size, at target_utilization of max_size per broker.
//
// Both wait while the cluster is not ACTIVE or runs an operation, and for
// their cooldowns; storage goes first and the broker count waits for it.
//
// Files:
//
//	policy.go      the validated Policy, defaults, schedules
//	load.go        Load, Parse, Reload; unknown keys; *Error (file:line: key: rule)
//	validate.go    every rule a policy file must keep; sizes
//	input.go       Input, Sample, Cluster, Record, Decision, Action, Hold
//	decide.go      Decide, the gates (state, operation, cooldown)
//	storage.go     storage target tracking
//	resource.go    the broker loads, evaluation points, windows, HPA's calculation
//	brokers.go     broker count: schedules, scale out, scale in
//	testdata/      scripted decisions (datadriven; go test -rewrite regenerates)
package policy
