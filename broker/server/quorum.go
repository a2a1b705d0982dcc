package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/lifecycle"
	"github.com/weirhq/weir/broker/quorum"
)

// The broker runs the metadata quorum (broker/quorum) in combined mode:
// the voters named by controller.quorum.voters (or, when it is empty, this
// broker alone) elect a leader that acts as the controller, and every
// broker keeps a copy of the metadata image and serves from it. Raft
// shares the Kafka listener: a raft connection opens with a preamble that
// is never a valid Kafka frame size (quorum.RaftPreamble).

// metadataDirName is the raft log's directory in the first log dir, named
// as Kafka names its metadata log.
const metadataDirName = "__cluster_metadata-0"

// parseVoters reads controller.quorum.voters ("1@host:port,2@host:port");
// empty means this broker alone at its advertised address.
func (b *Broker) parseVoters() ([]quorum.Voter, error) {
	raw := strings.TrimSpace(b.cfg.ControllerQuorumVoters)
	if raw == "" {
		return []quorum.Voter{{ID: b.cfg.NodeID, Addr: b.advertisedAddr()}}, nil
	}
	var out []quorum.Voter
	for _, item := range strings.Split(raw, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(item), "@")
		n, err := strconv.ParseInt(id, 10, 32)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("controller.quorum.voters: %q is not id@host:port", item)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("controller.quorum.voters: %q: %w", item, err)
		}
		out = append(out, quorum.Voter{ID: int32(n), Addr: addr})
	}
	return out, nil
}

func (b *Broker) advertisedAddr() string {
	adv := b.advertised()
	return net.JoinHostPort(adv.Host, strconv.Itoa(adv.Port))
}

// resolveClusterID picks the cluster id: the one already in the data
// dirs, else weir.cluster.id, else a new one, which only a lone voter may
// make up (brokers of a larger cluster must agree: weir up sets the key).
func (b *Broker) resolveClusterID(voters []quorum.Voter) (string, error) {
	for _, d := range b.cfg.LogDirs {
		props, err := readProperties(filepath.Join(d, "meta.properties"))
		if err == nil && props["cluster.id"] != "" {
			if b.cfg.ClusterID != "" && b.cfg.ClusterID != props["cluster.id"] {
				return "", fmt.Errorf("log.dirs: %s belongs to cluster %q but weir.cluster.id is %q: refusing to start (point log.dirs at this cluster's data, or move that directory away)", d, props["cluster.id"], b.cfg.ClusterID)
			}
			return props["cluster.id"], nil
		}
	}
	if b.cfg.ClusterID != "" {
		return b.cfg.ClusterID, nil
	}
	if len(voters) == 1 && voters[0].ID == b.cfg.NodeID {
		return config.NewClusterID(), nil
	}
	return "", errors.New("weir.cluster.id: must be set on every broker of a multi-voter cluster (weir up sets it)")
}

// openQuorum starts the raft node over the Kafka listener.
func (b *Broker) openQuorum() error {
	voters, err := b.parseVoters()
	if err != nil {
		return err
	}
	b.voters = map[int32]string{}
	for _, v := range voters {
		b.voters[v.ID] = v.Addr
	}
	b.stream = quorum.NewStream(b.advertisedAddr())
	if b.peerDial != nil {
		b.stream.SetDial(b.peerDial)
	}
	qc := quorum.Config{
		NodeID: b.cfg.NodeID, Dir: filepath.Join(b.cfg.LogDirs[0], metadataDirName),
		Voters: voters, Stream: b.stream, Logger: b.logger.With("component", "quorum"),
	}
	qc.KafkaTimeouts(b.cfg.QuorumElectionTimeout, b.cfg.QuorumFetchTimeout)
	node, err := quorum.Open(qc)
	if err != nil {
		return fmt.Errorf("opening the metadata quorum: %w", err)
	}
	b.node = node
	return nil
}

func (b *Broker) clusterID() string { return b.cluster }

func (b *Broker) isVoter(id int32) bool {
	_, ok := b.voters[id]
	return ok
}

// peerAddr is another broker's Kafka address: from its registration, or
// for a voter not yet registered, from controller.quorum.voters.
func (b *Broker) peerAddr(id int32) (string, bool) {
	if id == b.cfg.NodeID {
		return b.advertisedAddr(), true // this process's own, even before it re-registers
	}
	if br, ok := b.node.Image().Broker(id); ok {
		return net.JoinHostPort(br.Host, strconv.Itoa(int(br.Port))), true
	}
	addr, ok := b.voters[id]
	return addr, ok
}

// brokerAddr is a registered broker's Kafka address (replication).
func (b *Broker) brokerAddr(id int32) (string, bool) { return b.peerAddr(id) }

// metadataLoop applies each new metadata image and keeps readiness: a
// broker is ready once it is registered, unfenced and has applied the
// image that unfenced it.
func (b *Broker) metadataLoop() {
	var applied uint64
	first, warned := true, false
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		img, changed := b.node.Watch()
		if first || img.Version != applied {
			b.reconcile(img)
			applied, first = img.Version, false
			b.published(img.Version)
		}
		ready := !b.life.Fenced()
		if ready != b.ready.Load() {
			b.ready.Store(ready)
			if ready {
				b.logger.Info("broker ready", "node.id", b.cfg.NodeID, "metadata_version", img.Version)
				if !warned { // the metadata log is replayed by now
					warned = true
					b.warnStrayDirs()
				}
			}
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-b.ctx.Done():
			return
		}
	}
}

// forwardCreateTopics sends a CreateTopics request to the active
// controller (from a broker that is not it) and returns its answer for
// the one topic: auto-created topics and __consumer_offsets are created
// this way, as Kafka's brokers forward them since KIP-590.
func (b *Broker) forwardCreateTopics(name string, partitions int32, rf int16, configs map[string]string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(5)
	req.TimeoutMillis = int32(lifecycle.ProposeTimeout / time.Millisecond)
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, rf
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, strPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	raw, err := b.life.Request(req)
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.CreateTopicsResponse)
	if len(resp.Topics) != 1 {
		return kerr.UnknownServerError
	}
	if code := resp.Topics[0].ErrorCode; code != 0 && code != kerr.TopicAlreadyExists.Code {
		return kerr.ErrorForCode(code)
	}
	return nil
}

// removeLegacyStore notes a metadata file from before the quorum; its
// topics are not imported.
func (b *Broker) removeLegacyStore() {
	old := filepath.Join(b.cfg.LogDirs[0], quorum.LegacyStoreFile)
	if _, err := os.Stat(old); err == nil {
		b.logger.Warn("ignoring the single-node metadata file from an older Weir; topics are now kept in the metadata quorum", "file", old)
	}
}

// published records that this broker has applied metadata up to version
// and wakes waitApplied callers.
func (b *Broker) published(version uint64) {
	b.appliedMu.Lock()
	defer b.appliedMu.Unlock()
	b.appliedMu.version = version
	if b.appliedMu.ch != nil {
		close(b.appliedMu.ch)
		b.appliedMu.ch = nil
	}
}

// waitApplied waits until this broker has applied metadata version (so a
// topic the controller just created is served here), or the timeout.
func (b *Broker) waitApplied(version uint64, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		b.appliedMu.Lock()
		if b.appliedMu.version >= version {
			b.appliedMu.Unlock()
			return
		}
		if b.appliedMu.ch == nil {
			b.appliedMu.ch = make(chan struct{})
		}
		ch := b.appliedMu.ch
		b.appliedMu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return
		case <-b.ctx.Done():
			return
		}
	}
}
