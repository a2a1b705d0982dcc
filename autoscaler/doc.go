// Package autoscaler will grow broker storage and broker count from policy
// files, the way MSK's storage auto-scaling and broker scaling do: a pure
// policy (metrics → action), provisioners (the local supervisor behind
// `weir up`, the MSK API), and the loop that joins them. Not built yet; see
// docs/DESIGN.md.
package autoscaler
