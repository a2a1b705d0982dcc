package executor

// Hooks for the cluster tests, which live in package executor_test: they
// import brokertest, and brokertest → cluster → collector → executor.
var (
	DynamicConfigs = dynamicConfigs
	SameSet        = sameSet
	SplitList      = splitList
	AlterErr       = alterErr
)

const (
	LeaderRate       = leaderRate
	FollowerRate     = followerRate
	LeaderReplicas   = leaderReplicas
	FollowerReplicas = followerReplicas
)
