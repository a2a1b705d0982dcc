package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerGroupDescribe handles a ConsumerGroupDescribe request: each
// consumer-protocol group with its epochs, assignor and members, their
// current and target assignments. A group that does not exist or uses the
// classic protocol is GROUP_ID_NOT_FOUND.
func (c *Coordinator) ConsumerGroupDescribe(r *kmsg.ConsumerGroupDescribeRequest) *kmsg.ConsumerGroupDescribeResponse {
	resp := r.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, id := range r.Groups {
		sg := kmsg.NewConsumerGroupDescribeResponseGroup()
		sg.Group = id
		g, code := c.lock(id, false)
		switch {
		case code != nil:
			sg.ErrorCode = code.Code
		case g == nil:
			sg.ErrorCode, sg.ErrorMessage = kerr.GroupIDNotFound.Code, strPtr("Group "+id+" not found.")
		default:
			g.describeConsumer(r, &sg)
			c.unlock(g)
		}
		resp.Groups = append(resp.Groups, sg)
	}
	return resp
}

func (g *Group) describeConsumer(r *kmsg.ConsumerGroupDescribeRequest, sg *kmsg.ConsumerGroupDescribeResponseGroup) {
	cg := g.consumer
	if cg == nil {
		sg.ErrorCode, sg.ErrorMessage = kerr.GroupIDNotFound.Code, strPtr("Group "+g.id+" is not a consumer group.")
		return
	}
	sg.State, sg.Epoch, sg.AssignmentEpoch, sg.AssignorName = cg.state(), cg.epoch, cg.assignmentEpoch, cg.assignor()
	if r.IncludeAuthorizedOperations {
		sg.AuthorizedOperations = groupOperations
	}
	for _, m := range cg.sortedMembers() {
		sm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		sm.MemberID, sm.InstanceID, sm.RackID, sm.MemberEpoch = m.id, m.instanceID, m.rackID, m.epoch
		sm.ClientID, sm.ClientHost = m.clientID, m.clientHost
		sm.SubscribedTopics = append([]string{}, m.topics...)
		if m.regex != "" {
			sm.SubscribedTopicRegex = strPtr(m.regex)
		}
		sm.Assignment = g.describeAssignment(cg, m.assigned)
		sm.TargetAssignment = g.describeAssignment(cg, cg.target[m.id])
		sm.MemberType = 1 // a consumer-protocol member
		sg.Members = append(sg.Members, sm)
	}
}

func (g *Group) describeAssignment(cg *consumerGroup, a topicParts) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, t := range sortedKeys(a) {
		id, _ := g.topicID(cg, t)
		at := kmsg.NewAssignmentTopicPartition()
		at.TopicID, at.Topic, at.Partitions = id, t, append([]int32{}, a[t]...)
		out.TopicPartitions = append(out.TopicPartitions, at)
	}
	return out
}
