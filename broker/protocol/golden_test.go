package protocol

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Golden bytes for old versions, laid out by hand from Kafka's message
// specs (clients/src/main/resources/common/message at 3.9): the codec
// (kmsg) must read and write exactly these.

func TestGoldenListOffsetsV0(t *testing.T) {
	// Request: header, then ReplicaId int32, Topics [Name, Partitions
	// [PartitionIndex, Timestamp int64, MaxNumOffsets int32 (v0 only)]].
	frame := append(header(2, 0, 5, "s", false),
		0xff, 0xff, 0xff, 0xff, // replica id -1
		0, 0, 0, 1, 0, 1, 't', // one topic "t"
		0, 0, 0, 1, // one partition
		0, 0, 0, 3, // partition 3
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // timestamp -1 (latest)
		0, 0, 0, 2, // max 2 offsets
	)
	req, err := ParseRequest(frame)
	if err != nil {
		t.Fatal(err)
	}
	r := req.Body.(*kmsg.ListOffsetsRequest)
	if p := r.Topics[0].Partitions[0]; r.ReplicaID != -1 || r.Topics[0].Topic != "t" || p.Partition != 3 || p.Timestamp != -1 || p.MaxNumOffsets != 2 {
		t.Fatalf("decoded %+v", r)
	}
	// Response: Topics [Name, Partitions [PartitionIndex, ErrorCode,
	// OldStyleOffsets []int64 (v0 only)]]: no throttle time, timestamp or
	// single offset.
	resp := kmsg.NewPtrListOffsetsResponse()
	resp.SetVersion(0)
	st := kmsg.NewListOffsetsResponseTopic()
	st.Topic = "t"
	sp := kmsg.NewListOffsetsResponseTopicPartition()
	sp.Partition, sp.OldStyleOffsets = 3, []int64{10, 0}
	st.Partitions = append(st.Partitions, sp)
	resp.Topics = append(resp.Topics, st)
	want := []byte{
		0, 0, 0, 1, 0, 1, 't',
		0, 0, 0, 1,
		0, 0, 0, 3, // partition
		0, 0, // no error
		0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, // [10, 0]
	}
	if got := resp.AppendTo(nil); !bytes.Equal(got, want) {
		t.Fatalf("response\n got %x\nwant %x", got, want)
	}
}

func TestGoldenOffsetCommitV0(t *testing.T) {
	// GroupId, Topics [Name, Partitions [PartitionIndex, CommittedOffset,
	// CommittedMetadata (a nullable string)]]: no generation, member id or
	// retention, which read as -1 and "".
	frame := append(header(8, 0, 1, "s", false),
		0, 1, 'g',
		0, 0, 0, 1, 0, 1, 't',
		0, 0, 0, 1,
		0, 0, 0, 0, // partition 0
		0, 0, 0, 0, 0, 0, 0, 42, // offset 42
		0, 2, 'm', 'd', // metadata
	)
	req, err := ParseRequest(frame)
	if err != nil {
		t.Fatal(err)
	}
	r := req.Body.(*kmsg.OffsetCommitRequest)
	p := r.Topics[0].Partitions[0]
	if r.Group != "g" || r.Generation != -1 || r.MemberID != "" || p.Offset != 42 || p.Metadata == nil || *p.Metadata != "md" {
		t.Fatalf("decoded %+v %+v", r, p)
	}
}

func TestGoldenJoinGroupV0(t *testing.T) {
	// GroupId, SessionTimeoutMs, MemberId, ProtocolType, Protocols [Name,
	// Metadata bytes]: no rebalance timeout before v1.
	frame := append(header(11, 0, 1, "s", false),
		0, 1, 'g',
		0, 0, 0x27, 0x10, // session timeout 10000
		0, 0, // member id ""
		0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
		0, 0, 0, 1, 0, 5, 'r', 'a', 'n', 'g', 'e', 0, 0, 0, 1, 0xaa,
	)
	req, err := ParseRequest(frame)
	if err != nil {
		t.Fatal(err)
	}
	r := req.Body.(*kmsg.JoinGroupRequest)
	if r.SessionTimeoutMillis != 10000 || r.RebalanceTimeoutMillis != -1 || r.ProtocolType != "consumer" ||
		len(r.Protocols) != 1 || r.Protocols[0].Name != "range" || !bytes.Equal(r.Protocols[0].Metadata, []byte{0xaa}) {
		t.Fatalf("decoded %+v", r)
	}
}

func TestGoldenMetadataV0Response(t *testing.T) {
	// Brokers [NodeId, Host, Port] (no rack), Topics [ErrorCode, Name,
	// Partitions [ErrorCode, PartitionIndex, LeaderId, ReplicaNodes,
	// IsrNodes]]: no controller, cluster id, internal flag or epochs.
	resp := kmsg.NewPtrMetadataResponse()
	resp.SetVersion(0)
	br := kmsg.NewMetadataResponseBroker()
	br.NodeID, br.Host, br.Port = 1, "h", 9092
	resp.Brokers = append(resp.Brokers, br)
	st := kmsg.NewMetadataResponseTopic()
	st.Topic = kmsg.StringPtr("t")
	sp := kmsg.NewMetadataResponseTopicPartition()
	sp.Partition, sp.Leader, sp.Replicas, sp.ISR = 0, 1, []int32{1}, []int32{1}
	st.Partitions = append(st.Partitions, sp)
	resp.Topics = append(resp.Topics, st)
	want := []byte{
		0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 'h', 0, 0, 0x23, 0x84,
		0, 0, 0, 1, 0, 0, 0, 1, 't',
		0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
	}
	if got := resp.AppendTo(nil); !bytes.Equal(got, want) {
		t.Fatalf("response\n got %x\nwant %x", got, want)
	}
}
