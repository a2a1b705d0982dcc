package grafana

// ConsumerLag is consumer groups' lag in records and in time. Every agent
// reports every group, so each query takes the max over agents.
func ConsumerLag() *Dashboard {
	return New("weir-consumer-lag", "Weir / Consumer lag",
		"Consumer groups' lag in records and in time, per group, topic and partition, and their members.").
		Var("consumergroup", "Consumer group", `label_values(kafka_consumergroup_members{cluster=~"$cluster"}, consumergroup)`,
			"Groups the agents report (group_filter applies).").
		Var("topic", "Topic", `label_values(kafka_consumergroup_lag_sum{cluster=~"$cluster",consumergroup=~"$consumergroup"}, topic)`,
			"Topics the selected groups have committed offsets on.").
		Row("Groups").
		Add(
			TimeSeries("Lag in records", "Records of each topic a group has not committed (MSK SumOffsetLag; alert KafkaConsumerGroupLagHigh at 10,000).").
				Query(`cluster_consumergroup_topic:kafka_consumergroup_lag:sum{`+ofGroup+`}`, "{{consumergroup}} {{topic}}").
				Unit(UnitShort).Min(0).Thresholds(Green, At(10000, Red)),
			TimeSeries("Lag in time", "Age of the oldest record of each topic a group has not consumed (MSK EstimatedMaxTimeLag; alert KafkaConsumerGroupTimeLagHigh at 5 min).").
				Query(`cluster_consumergroup_topic:weir_consumergroup_time_lag_seconds:max{`+ofGroup+`}`, "{{consumergroup}} {{topic}}").
				Unit(UnitSeconds).Min(0).Thresholds(Green, At(300, Red)),
			TimeSeries("Largest partition lag", "The lag of each group's most lagging partition of a topic (MSK MaxOffsetLag).").
				Query(`max by (consumergroup, topic) (weir_consumergroup_max_lag{`+ofGroup+`})`, "{{consumergroup}} {{topic}}").Unit(UnitShort).Min(0),
			TimeSeries("Members", "Members of each group: 0 means nobody consumes and the lag can only grow.").
				Query(`max by (consumergroup) (kafka_consumergroup_members{cluster=~"$cluster",consumergroup=~"$consumergroup"})`, "{{consumergroup}}").Unit(UnitNone).Min(0),
			TimeSeries("Consumption rate", "Records per second the group commits, per topic (growth of its committed offsets).").
				Query(`sum by (consumergroup, topic) (max by (consumergroup, topic, partition) (rate(kafka_consumergroup_current_offset{`+ofGroup+`}`+window+`)))`, "{{consumergroup}} {{topic}}").Unit(UnitRecsPerSec),
		).
		Row("Partitions").
		Add(
			TimeSeries("Lag by partition", "Records not committed, per partition (agent level PER_TOPIC_PER_PARTITION): one partition far behind points at a stuck consumer or a poison record.").
				Query(`max by (consumergroup, topic, partition) (kafka_consumergroup_lag{`+ofGroup+`})`, "{{consumergroup}} {{topic}}-{{partition}}").Unit(UnitShort).Min(0),
			TimeSeries("Time lag by partition", "Age of the oldest unconsumed record, per partition (MSK EstimatedTimeLag).").
				Query(`max by (consumergroup, topic, partition) (weir_consumergroup_time_lag_seconds{`+ofGroup+`})`, "{{consumergroup}} {{topic}}-{{partition}}").Unit(UnitSeconds).Min(0),
		).
		Dashboard()
}
