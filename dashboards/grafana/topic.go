package grafana

// Topic is one topic (or several): traffic, partitions and their replicas.
// Needs the agent at PER_TOPIC_PER_BROKER, and PER_TOPIC_PER_PARTITION for
// the partition panels.
func Topic() *Dashboard {
	return New("weir-topic", "Weir / Topic",
		"One topic in detail: traffic in and out, by broker, and its partitions' offsets, sizes and replicas.").
		Var("topic", "Topic", `label_values(kafka_server_brokertopicmetrics_bytesin_total{cluster=~"$cluster"}, topic)`,
			"Topics the brokers count traffic for (agent level PER_TOPIC_PER_BROKER or finer).").
		Row("Traffic").
		Add(
			TimeSeries("Bytes in and out", "Bytes per second produced to and fetched from the topic.").
				Query(`cluster_topic:kafka_bytes_in:rate1m{`+onTopic+`}`, "in {{topic}}").
				Query(`cluster_topic:kafka_bytes_out:rate1m{`+onTopic+`}`, "out {{topic}}").Unit(UnitBytesPerSec),
			TimeSeries("Messages in", "Records produced per second to the topic.").
				Query(`cluster_topic:kafka_messages_in:rate1m{`+onTopic+`}`, "{{topic}}").Unit(UnitRecsPerSec),
			TimeSeries("Bytes in by broker", "The topic's bytes in per second on each broker: its leaders' share of the topic.").
				Query(`sum by (topic, broker) (rate(kafka_server_brokertopicmetrics_bytesin_total{`+onTopic+`}`+window+`))`, "{{topic}} broker {{broker}}").Unit(UnitBytesPerSec),
			TimeSeries("Produce and fetch requests", "Produce and fetch requests per second naming the topic.").
				Query(`sum by (topic) (rate(kafka_server_brokertopicmetrics_totalproducerequests_total{`+onTopic+`}`+window+`))`, "produce {{topic}}").
				Query(`sum by (topic) (rate(kafka_server_brokertopicmetrics_totalfetchrequests_total{`+onTopic+`}`+window+`))`, "fetch {{topic}}").Unit(UnitPerSec),
		).
		Row("Partitions").
		Add(
			Stat("Partitions", "The topic's partition count.").
				Query(`max(kafka_topic_partitions{`+onTopic+`})`, "").Unit(UnitNone),
			Stat("Under-replicated partitions", "Partitions of the topic whose ISR is smaller than their replica set.").
				Query(`sum(max by (topic, partition) (kafka_topic_partition_under_replicated_partition{`+onTopic+`}))`, "").
				Unit(UnitNone).Thresholds(Green, At(1, Yellow)),
			Stat("Size on disk", "Bytes of every replica of the topic on disk, on all brokers (replication factor times the data).").
				Query(`sum(kafka_log_log_size{`+onTopic+`})`, "").Unit(UnitBytes),
		).
		Add(
			TimeSeries("Messages in by partition", "Growth of each partition's end offset per second: a skewed key shows here.").
				Query(`max by (topic, partition) (rate(kafka_topic_partition_current_offset{`+onTopic+`}`+window+`))`, "{{topic}}-{{partition}}").Unit(UnitRecsPerSec),
			TimeSeries("Size by partition", "Bytes of each partition's largest replica on disk.").
				Query(`max by (topic, partition) (kafka_log_log_size{`+onTopic+`})`, "{{topic}}-{{partition}}").Unit(UnitBytes),
			TimeSeries("In-sync replicas by partition", "ISR size of each partition against its replica count.").
				Query(`min by (topic, partition) (kafka_topic_partition_in_sync_replica{`+onTopic+`})`, "ISR {{topic}}-{{partition}}").
				Query(`max by (topic, partition) (kafka_topic_partition_replicas{`+onTopic+`})`, "replicas {{topic}}-{{partition}}").Unit(UnitNone).Min(0),
			TimeSeries("Leader by partition", "Broker id leading each partition (-1: offline).").
				Query(`max by (topic, partition) (kafka_topic_partition_leader{`+onTopic+`})`, "{{topic}}-{{partition}}").Unit(UnitNone),
		).
		Dashboard()
}
