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
//     [floor(c·max(0, 2−t)), ceil(c·t)], c the broker's target (below).
//   - PotentialNwOutGoal: the outbound network a broker would carry leading
//     all its replicas stays under its outbound capacity threshold.
//   - Disk/NetworkInbound/NetworkOutbound/CpuUsageDistributionGoal: load
//     within [c·max(0, 2−t), c·t] of the broker's target c; nothing to do
//     below <resource>.low.utilization.threshold (of the mean utilization).
//   - TopicReplicaDistributionGoal: per topic and broker, within
//     [max(0, floor(c − gap)), ceil(c + gap)], gap = clamp(c·(t−1),
//     min.gap, max.gap), c the topic's target for the broker.
//   - LeaderBytesInDistributionGoal: inbound bytes of led partitions under
//     c·t (network.inbound.balance.threshold).
//
// A distribution goal's target c for a broker is the cluster mean: the
// total ÷ the covered brokers for counts, the mean utilization (total load
// ÷ total capacity of the brokers that may host) × its capacity for loads.
// With RackAwareGoal among the plan's goals it is what rack awareness lets
// the broker's rack reach (rack_share.go). With R racks (counted over the
// brokers that may host) and a = ceil(RF ÷ R), a rack holds between
// m = max(0, RF − a·(R−1)) and M = min(a, RF) replicas of a partition;
// with RF = R exactly one. Rack k's share of a figure therefore lies in
// [lo_k, hi_k]: the sums over the partitions of the least and the most m
// and M replicas carry (a leader replica carries the partition's leader
// load, the others the follower load; an excluded topic's replicas count
// where they are). Rack k's target share is S_k = clamp(λ·W_k, lo_k,
// hi_k), W_k the capacity (count, for counts) of its covered brokers, λ
// the level at which Σ S_k is the total (bisection; O(partitions + brokers)
// per goal, per topic for the topic goal); a broker's target is
// S_k × its capacity (or 1) ÷ W_k. When the mean fits every rack (λ =
// total ÷ ΣW puts each λ·W_k in [lo_k, hi_k]: the same brokers per rack,
// no racks, RF below the rack count with room to spare) the targets are
// the mean's exactly; so are they when a broker that may host is left out
// of the goal (no capacity of the resource, Demoted for leader goals)
// while a rack must hold a minimum. So with brokers 1–3 in racks a, b, c,
// every partition RF 3, and broker 4 added to rack a, brokers 2 and 3
// keep every partition and brokers 1 and 4 aim at half of rack a's
// replicas, disk, network and CPU each, not at a quarter of the
// cluster's.
// The capacity goals and PotentialNwOutGoal bound a broker against its
// capacity, not a mean, and keep their limits.
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
// (c·(1 ± (t−1)/2)) and later goals are held to that target, so the
// result sits near the target, not at the band's edge. Capacity goals first
// fill receivers only to the mean utilization, and usage distribution
// goals only to the target c, so a hot spot spreads rather than moves and
// the first receivers keep room for the later goals' swaps.
//
// A replica moved back where it started is no move: the proposal compares
// the final placement with the model's, one model.Move per changed
// partition, the final leader first in NewReplicas.
//
// LowerBound is Σ_b max(0, disk_b − target_b) over all brokers, on the
// model's placement, where target_b is the total disk used × b's share of
// the disk capacity of the brokers that may host (Alive, New, Demoted), or
// with RackAwareGoal b's achievable disk target (its rack's share S_k
// split by capacity, as above), and 0 for Dead and Removing brokers: no
// plan reaching those targets copies less.
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
//	rack_share.go      the distribution goals' targets rack awareness allows
//	rack_aware.go, replica_capacity.go, disk_capacity.go, network_inbound_capacity.go,
//	network_outbound_capacity.go, cpu_capacity.go, replica_distribution.go,
//	potential_nw_out.go, disk_distribution.go, network_inbound_distribution.go,
//	network_outbound_distribution.go, cpu_distribution.go,
//	topic_replica_distribution.go, leader_replica_distribution.go,
//	leader_bytes_in.go  one goal each
//	proposal.go        the proposal: moves, stats, data to move, lower bound
//	testdata/*.txt     scripted tests, one file per goal and per broker-state mode
package planner
