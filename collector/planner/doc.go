// Package planner is the collector's planner: a pure function from a load
// model (collector/model) and a list of Cruise Control goals to a proposal,
// the partition moves that satisfy the goals. No I/O, no clock in the
// decisions, no goroutines; Plan(c, o) returns the same moves for the same
// input every time.
//
// # Broker states
//
// Before any goal runs, the plan carries out the brokers' states:
//
//   - Dead and Removing brokers (fix_offline_replicas, remove_broker) may
//     host nothing: each of their replicas moves, excluded topics included,
//     to the broker with the lowest disk utilization that keeps the hard
//     goals, else to the lowest one that may receive it at all. A replica
//     with nowhere to go fails the plan with *UnplaceableError, listing the
//     partitions.
//   - Demoted brokers (demote_broker) keep their replicas and lead nothing:
//     leadership goes to the replica that may lead with the fewest
//     leaderships, and that replica becomes the preferred leader.
//   - While any broker is New (add_broker), replica moves land only on New
//     brokers; leadership may move anywhere. Options.DestinationBrokers
//     narrows the receivers further.
//
// # Goals
//
// Goals run in priority order, hard goals first by default (Goals lists
// them). Each is optimized in turn, and every action from then on is
// checked against every goal already optimized (Cruise Control's
// acceptance): a goal's brokers must stay within its limits, or get no
// further outside them. So a later goal never undoes an earlier one. A hard
// goal left violated fails the plan with *HardGoalError; a soft one is
// reported VIOLATED.
//
//   - RackAwareGoal: a rack holds at most ceil(RF ÷ racks) replicas of a
//     partition, racks counted over the brokers that may host. With at least
//     as many racks as replicas that is one per rack; with fewer, as even as
//     the racks allow. A broker without a rack is a rack of its own.
//   - ReplicaCapacityGoal: at most max.replicas.per.broker replicas a broker.
//   - Disk/NetworkInbound/NetworkOutbound/CpuCapacityGoal: a broker's load
//     stays under capacity × <resource>.capacity.threshold.
//   - ReplicaDistributionGoal, LeaderReplicaDistributionGoal: counts within
//     [floor(mean·max(0, 2−t)), ceil(mean·t)].
//   - PotentialNwOutGoal: the outbound network a broker would carry leading
//     all its replicas stays under its outbound capacity threshold.
//   - Disk/NetworkInbound/NetworkOutbound/CpuUsageDistributionGoal:
//     utilization within [mean·max(0, 2−t), mean·t] of the mean utilization
//     (total load ÷ total capacity of the brokers that may host); nothing to
//     do below <resource>.low.utilization.threshold.
//   - TopicReplicaDistributionGoal: per topic and broker, within
//     [max(0, floor(mean − gap)), ceil(mean + gap)],
//     gap = clamp(mean·(t−1), min.gap, max.gap).
//   - LeaderBytesInDistributionGoal: inbound bytes of led partitions under
//     mean·t (network.inbound.balance.threshold).
//
// A broker without a known capacity of a resource (0) is left out of that
// resource's capacity and distribution rules, its load too, as
// model.Utilization counts it unloaded.
//
// Balancedness in a GoalResult is the share of the goal's units (brokers,
// partitions for rack awareness, topics for the topic goal) that keep it.
//
// # Algorithm
//
// The state indexes the model once: replicas in one flat slice by
// partition, partitions by broker, replica counts by topic and broker, and
// per broker the sums every goal reads (load per resource, replica and
// leader counts, potential outbound network, leader bytes in). An action —
// move a replica, move leadership, swap two replicas — updates those sums in
// O(replication factor); nothing copies the model.
//
// Most goals bound one figure per broker (brokerGoal). Optimizing one takes
// the brokers above the target, most over first, and sheds: leadership
// first where it changes the figure (CPU, outbound network, leader counts:
// no data copied), then replica moves to the least loaded receivers, then
// swaps where a move cannot help (another goal's count or disk band is
// full). Each transfer picks from the source's candidates, sorted once per
// round by how much they lower the figure, the best fit: the smallest
// replica that closes the gap without pushing either broker past its
// target, else the largest that narrows it; among equal amounts the
// smallest on disk. Brokers below the target are filled the same way from
// the most loaded. Distribution goals aim for half their band
// (mean·(1 ± (t−1)/2)) and later goals are held to that target, so the
// result sits near the mean, not at the band's edge. Capacity goals first
// fill receivers only to the mean utilization, so a hot spot spreads
// rather than moves.
//
// A replica moved back where it started is no move: the proposal compares
// the final placement with the model's, one model.Move per changed
// partition, the final leader first in NewReplicas.
//
// LowerBound is Σ_b max(0, disk_b − target_b) over all brokers, where
// target_b is the total disk used × b's share of the disk capacity of the
// brokers that may host (Alive, New, Demoted), and 0 for Dead and Removing
// brokers: no plan reaching those targets copies less.
//
// # Determinism
//
// Decisions never depend on map order or randomness: brokers, partitions
// and candidates are visited in index order or sorted with index as the
// last tie-break, and maps only look up broker ids and number racks in broker order.
//
// # Files
//
//	plan.go            Plan, Options: the run (states, then goals in order)
//	config.go          Config and its Cruise Control keys
//	goal.go            the goal interface, the registry in priority order, name lookup
//	errors.go          GoalError, UnplaceableError, HardGoalError
//	build.go           indexing the model into the state
//	state.go           the state: per-broker sums, replica slots, incremental updates
//	action.go          actions, their per-broker deltas, legality and acceptance
//	evacuate.go        replicas off Dead/Removing brokers, leadership off Demoted ones
//	metric.go          the per-broker figures broker goals bound
//	brokergoal.go      optimizing a per-broker bound: shed, fill, best-fit transfers
//	leadership.go      leadership moves for broker goals
//	swap.go            swaps for broker goals
//	capacity.go, distribution.go  the shared capacity and distribution rules
//	rack_aware.go, replica_capacity.go, disk_capacity.go, network_inbound_capacity.go,
//	network_outbound_capacity.go, cpu_capacity.go, replica_distribution.go,
//	potential_nw_out.go, disk_distribution.go, network_inbound_distribution.go,
//	network_outbound_distribution.go, cpu_distribution.go,
//	topic_replica_distribution.go, leader_replica_distribution.go,
//	leader_bytes_in.go  one goal each
//	proposal.go        the proposal: moves, stats, data to move, lower bound
//	testdata/*.txt     scripted tests, one file per goal and per broker-state mode
package planner
