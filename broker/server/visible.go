package server

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
)

// adminVisibleTimeout bounds how long a topic change waits for every live
// broker to serve it before the answer goes out anyway.
const adminVisibleTimeout = 5 * time.Second

// waitEveryBroker waits until every other live broker's Metadata answer
// for topic satisfies seen, or adminVisibleTimeout passes: CreateTopics,
// CreatePartitions and DeleteTopics answer only once any broker a client
// asks next agrees (issue 13's read-your-writes; the others learn of a
// commit at their next raft round, 20–50 ms later under load, and clients
// such as segmentio/kafka-go and librdkafka cache a miss for their whole
// metadata TTL). A broker that cannot be reached is not waited for (it may
// be dead and not yet fenced). The poll is a real wait on other processes,
// so it runs on the wall clock.
func (b *Broker) waitEveryBroker(topic string, seen func(kmsg.MetadataResponseTopic) bool) {
	ctx, cancel := context.WithTimeout(b.ctx, adminVisibleTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, br := range b.node.Image().LiveBrokers() {
		if br.ID == b.cfg.NodeID {
			continue
		}
		addr, ok := b.peerAddr(br.ID)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() { // owned here: waitEveryBroker waits for each
			defer wg.Done()
			b.waitBrokerSees(ctx, addr, topic, seen)
		}()
	}
	wg.Wait()
}

func (b *Broker) waitBrokerSees(ctx context.Context, addr, topic string, seen func(kmsg.MetadataResponseTopic) bool) {
	p, err := protocol.DialPeerWith(ctx, b.peerDial, addr, "weir-admin-"+strconv.Itoa(int(b.cfg.NodeID)))
	if err != nil {
		return
	}
	defer p.Close()
	stop := context.AfterFunc(ctx, func() { p.Close() })
	defer stop()
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = &topic
	req.Topics = append(req.Topics, rt)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		deadline, _ := ctx.Deadline()
		raw, err := p.Request(req, time.Until(deadline))
		if err != nil {
			return
		}
		if resp := raw.(*kmsg.MetadataResponse); len(resp.Topics) == 1 && seen(resp.Topics[0]) {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// servesPartitions is seen for a topic with n partitions, each led.
func servesPartitions(n int) func(kmsg.MetadataResponseTopic) bool {
	return func(t kmsg.MetadataResponseTopic) bool {
		if t.ErrorCode != 0 || len(t.Partitions) < n {
			return false
		}
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 || p.Leader < 0 {
				return false
			}
		}
		return true
	}
}

// gone is seen for a deleted topic.
func gone(t kmsg.MetadataResponseTopic) bool { return t.ErrorCode != 0 }
