package protocol

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Range is the inclusive version range served for one API key.
type Range struct {
	Key      int16
	Min, Max int16
}

// versions is what this broker advertises in ApiVersions: Apache Kafka
// 3.9's ranges for the APIs served (the KIP-848 pair's v1 is Kafka
// 4.0's; protocol_test.go holds 3.9's table). Kafka 3.9 still served
// every version back to 0 (Kafka 4.0 dropped the oldest, KIP-896), and
// tools built on old clients (Burrow on Sarama, kafka-python pinned to
// 0.8–0.10) send them. Produce v0–v2 and Fetch v0–v3 carry message formats v0/v1, which
// the handlers convert to and from the v2 batches this broker stores.
//
// An API appears here only when its handler exists: clients pick features
// from this table (kafka-python infers the broker's release from it), so
// advertising an API that is not served breaks them.
var versions = map[int16]Range{
	0:  {0, 0, 12}, // Produce (v0–v2: message sets, up-converted; v12: transaction.version 2 only)
	1:  {1, 0, 17}, // Fetch (v0–v3: down-converted to message sets)
	2:  {2, 0, 9},  // ListOffsets (v0: old-style offsets arrays, Sarama and Burrow)
	3:  {3, 0, 12}, // Metadata
	8:  {8, 0, 9},  // OffsetCommit (v0–v1: kafka-python 0.8/0.9 and Sarama's defaults; v9: member epochs of consumer-protocol groups)
	9:  {9, 0, 9},  // OffsetFetch (v9: member id and epoch)
	10: {10, 0, 6}, // FindCoordinator
	11: {11, 0, 9}, // JoinGroup
	12: {12, 0, 4}, // Heartbeat
	13: {13, 0, 5}, // LeaveGroup
	14: {14, 0, 5}, // SyncGroup
	15: {15, 0, 5}, // DescribeGroups
	16: {16, 0, 5}, // ListGroups
	17: {17, 0, 1}, // SaslHandshake (v0: raw tokens follow; v1: SaslAuthenticate)
	18: {18, 0, 4}, // ApiVersions (v4: v3's body, so clients that open with v4 need no retry)
	19: {19, 0, 7}, // CreateTopics
	20: {20, 0, 6}, // DeleteTopics
	21: {21, 0, 2}, // DeleteRecords
	22: {22, 0, 5}, // InitProducerId
	23: {23, 0, 4}, // OffsetForLeaderEpoch
	24: {24, 0, 5}, // AddPartitionsToTxn (v4+: batched, from brokers; KIP-890 VerifyOnly)
	25: {25, 0, 4}, // AddOffsetsToTxn
	26: {26, 0, 5}, // EndTxn (v5: transaction.version 2 only)
	27: {27, 0, 1}, // WriteTxnMarkers (from transaction coordinators)
	28: {28, 0, 5}, // TxnOffsetCommit (v5: transaction.version 2 only)
	29: {29, 0, 3}, // DescribeAcls
	30: {30, 0, 3}, // CreateAcls
	31: {31, 0, 3}, // DeleteAcls
	32: {32, 0, 4}, // DescribeConfigs
	33: {33, 0, 2}, // AlterConfigs
	35: {35, 0, 4}, // DescribeLogDirs
	36: {36, 0, 2}, // SaslAuthenticate (v1: session lifetime, KIP-368)
	37: {37, 0, 3}, // CreatePartitions
	42: {42, 0, 2}, // DeleteGroups
	43: {43, 0, 2}, // ElectLeaders
	44: {44, 0, 1}, // IncrementalAlterConfigs
	45: {45, 0, 0}, // AlterPartitionReassignments
	46: {46, 0, 0}, // ListPartitionReassignments
	47: {47, 0, 0}, // OffsetDelete
	50: {50, 0, 0}, // DescribeUserScramCredentials
	51: {51, 0, 0}, // AlterUserScramCredentials
	57: {57, 0, 2}, // UpdateFeatures (KIP-584; v1: UpgradeType, ValidateOnly; v2: no per-feature results)
	60: {60, 0, 1}, // DescribeCluster
	61: {61, 0, 0}, // DescribeProducers (KIP-664)
	65: {65, 0, 0}, // DescribeTransactions (KIP-664)
	66: {66, 0, 2}, // ListTransactions (KIP-664; v2: transaction.version 2 only)
	64: {64, 0, 0}, // UnregisterBroker (KIP-631; v0 is every version Kafka has)
	68: {68, 0, 1}, // ConsumerGroupHeartbeat (KIP-848; v1 is Kafka 4.0's, franz-go needs it)
	69: {69, 0, 1}, // ConsumerGroupDescribe
}

// internalVersions are the KRaft inter-broker RPCs (a broker registering
// and heartbeating with the controller, a leader asking it to change an
// ISR, a broker reserving producer ids). They are served on the same
// listener but not advertised: clients never send them.
var internalVersions = map[int16]Range{
	56: {56, 0, 3}, // AlterPartition
	62: {62, 0, 3}, // BrokerRegistration
	63: {63, 0, 1}, // BrokerHeartbeat
	67: {67, 0, 0}, // AllocateProducerIds
}

func init() {
	for key, r := range internalVersions {
		if req := kmsg.RequestForKey(key); req == nil || r.Max > req.MaxVersion() {
			panic("protocol: internal version table names a range kmsg cannot encode: " + kmsg.NameForKey(key))
		}
	}
	for key, r := range versions {
		req := kmsg.RequestForKey(key)
		if req == nil || r.Max > req.MaxVersion() || r.Min > r.Max {
			panic("protocol: version table names a range kmsg cannot encode: " + kmsg.NameForKey(key))
		}
	}
}

// VersionRange returns the served range for key, advertised or internal.
func VersionRange(key int16) (Range, bool) {
	if r, ok := versions[key]; ok {
		return r, true
	}
	r, ok := internalVersions[key]
	return r, ok
}

// Supported reports whether key is served at version v.
func Supported(key, v int16) bool {
	r, ok := VersionRange(key)
	return ok && v >= r.Min && v <= r.Max
}

// Ranges returns every served range, sorted by key.
func Ranges() []Range {
	out := make([]Range, 0, len(versions))
	for _, r := range versions {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// belowTV2 are the maxima advertised while transaction.version is below
// 2: the versions KIP-890 part 2 added (Produce v12, EndTxn v5,
// TxnOffsetCommit v5, ListTransactions v2) are advertised only once it is
// finalized at 2, so a client that sends them has TV2's semantics (the
// partition leader adds the partition; EndTxn bumps the epoch). A request
// at such a version is still served by its version's rules.
var belowTV2 = map[int16]int16{0: 11, 26: 4, 28: 4, 66: 1}

// Features are the feature levels an ApiVersions response carries.
type Features struct {
	Supported map[string]int16 // each feature's highest supported level (the lowest is 0)
	Finalized map[string]int16 // finalized levels above 0
	Epoch     int64            // FinalizedFeaturesEpoch: the metadata version they were read at
}

// ApiVersionsResponse builds the answer to an ApiVersions request at
// version v. unsupported answers a request for a version newer than ours:
// a v0 body with UNSUPPORTED_VERSION (35) and the ranges (KIP-511). The
// feature levels go out from v3 (tagged fields).
func ApiVersionsResponse(v int16, unsupported bool, f Features) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(v)
	if unsupported {
		resp.SetVersion(0)
		resp.ErrorCode = 35
	}
	tv2 := f.Finalized["transaction.version"] >= 2
	for _, r := range Ranges() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = r.Key, r.Min, r.Max
		if m, ok := belowTV2[r.Key]; ok && !tv2 {
			k.MaxVersion = m
		}
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	if resp.Version >= 3 {
		addFeatures(resp, f)
	}
	return resp
}

func addFeatures(resp *kmsg.ApiVersionsResponse, f Features) {
	for _, name := range sortedKeys(f.Supported) {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = name, 0, f.Supported[name]
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	}
	resp.FinalizedFeaturesEpoch = f.Epoch
	for _, name := range sortedKeys(f.Finalized) {
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = name, f.Finalized[name], f.Finalized[name]
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	}
}

func sortedKeys(m map[string]int16) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
