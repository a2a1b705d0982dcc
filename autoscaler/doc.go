// Package autoscaler grows broker storage and broker count from policy
// files, the way MSK's storage auto-scaling and (hand-run) broker scaling
// do: the autoscaler decides, provisioners act (docs/DESIGN.md;
// docs/AUTOSCALER.md is the policy file reference and the decision rules).
//
// Package map:
//
//	policy/      the pure core: policy files (Load, Parse, Reload) and
//	             Decide (metrics window, policy, cluster state, history,
//	             time → actions with reasons and holds with blocked reasons)
//	policies/    example policy files; every one loads (a test walks them)
//
// Still to come (issue 10): the process (`weir autoscaler`, `plan` as a dry
// run) that reads the agents' metrics and the control plane's cluster state,
// calls Decide on a ticker, and hands actions to a provisioner (the local
// control plane, Amazon MSK's UpdateBrokerStorage / UpdateBrokerCount),
// followed (out) or preceded (in) by the collector's add-broker /
// remove-broker rebalance; and its metrics.
package autoscaler
