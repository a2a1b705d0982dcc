// Package metrics defines the broker's Prometheus metrics under the names
// that the Prometheus JMX exporter gives Apache Kafka's own MBeans in the
// common open-source rule sets, so existing Kafka dashboards and alerts
// work against Weir unchanged. docs/METRICS.md lists every name.
//
// Per-topic counters are updated on the request path; per-partition and
// broker-wide gauges are computed at scrape time from a PartitionSource,
// so they cost nothing between scrapes and their cardinality is exactly the
// partitions this broker hosts.
//
// Where the JMX exporter emits one name both with and without a topic label
// (the all-topics aggregate), Weir emits only the labelled series: the
// aggregate is sum without(topic) (...). A Prometheus registry cannot hold
// one name with two label sets.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirhq/weir/broker/log"
)

// Broker holds the request-path metrics.
type Broker struct {
	BytesIn              *prometheus.CounterVec // topic
	BytesOut             *prometheus.CounterVec // topic
	MessagesIn           *prometheus.CounterVec // topic
	BytesRejected        *prometheus.CounterVec // topic
	TotalProduceRequests *prometheus.CounterVec // topic
	TotalFetchRequests   *prometheus.CounterVec // topic
	FailedProduce        *prometheus.CounterVec // topic
	FailedFetch          *prometheus.CounterVec // topic
	Requests             *prometheus.CounterVec // request, version
	Errors               *prometheus.CounterVec // request, error
	TotalTimeMs          *prometheus.SummaryVec // request
	Connections          *prometheus.GaugeVec   // listener
	ConnectionsCreated   *prometheus.CounterVec // listener
	ConnectionsClosed    *prometheus.CounterVec // listener
	ClientConnections    *prometheus.GaugeVec   // listener
	ReplicationBytesIn   prometheus.Counter
	ReplicationBytesOut  prometheus.Counter
	ISRShrinks           prometheus.Counter
	ISRExpands           prometheus.Counter
	ProtocolErrors       prometheus.Counter
	AuthSuccess          *prometheus.CounterVec // listener
	AuthFailure          *prometheus.CounterVec // listener

	// Parks times acks=all produces waiting for their ISR (requests.go).
	Parks *Parks
	// Conversions counts message-format conversions (conversions.go).
	Conversions *Conversions

	requests *requestStats
	// children caches the labelled series the request path updates, so a
	// request costs one map load instead of a label hash and a vec lookup
	// per series (and strconv for the version).
	children struct {
		requests sync.Map // requestKey → *requestSeries
		topics   sync.Map // topic → *TopicSeries
	}
}

// requestKey names the series one request updates.
type requestKey struct {
	api, kind string
	version   int16
}

// requestSeries are the series ObserveRequest updates for one requestKey.
type requestSeries struct {
	requests            prometheus.Counter
	totalTime, kindTime prometheus.Observer // kindTime nil without a kind
	api, kindStats      *phaseStats         // kindStats nil without a kind
}

// TopicSeries are a topic's produce-path counters, looked up once.
type TopicSeries struct {
	BytesIn, MessagesIn, TotalProduceRequests prometheus.Counter
}

// Topic returns topic's produce-path counters.
func (m *Broker) Topic(topic string) *TopicSeries {
	if s, ok := m.children.topics.Load(topic); ok {
		return s.(*TopicSeries)
	}
	s, _ := m.children.topics.LoadOrStore(topic, &TopicSeries{
		BytesIn:              m.BytesIn.WithLabelValues(topic),
		MessagesIn:           m.MessagesIn.WithLabelValues(topic),
		TotalProduceRequests: m.TotalProduceRequests.WithLabelValues(topic),
	})
	return s.(*TopicSeries)
}

func (m *Broker) requestSeries(t RequestTiming) *requestSeries {
	k := requestKey{api: t.API, kind: t.Kind, version: t.Version}
	if s, ok := m.children.requests.Load(k); ok {
		return s.(*requestSeries)
	}
	s := &requestSeries{
		requests:  m.Requests.WithLabelValues(t.API, strconv.Itoa(int(t.Version))),
		totalTime: m.TotalTimeMs.WithLabelValues(t.API),
		api:       m.requests.api(t.API),
	}
	if t.Kind != "" {
		s.kindTime, s.kindStats = m.TotalTimeMs.WithLabelValues(t.Kind), m.requests.api(t.Kind)
	}
	v, _ := m.children.requests.LoadOrStore(k, s)
	return v.(*requestSeries)
}

func topicCounter(name, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kafka_server_brokertopicmetrics_" + name + "_total",
		Help: help,
	}, []string{"topic"})
}

// New creates the metrics and registers them, with a collector for the
// scrape-time gauges over src, on reg.
func New(reg prometheus.Registerer, src PartitionSource) *Broker {
	m := &Broker{
		BytesIn:              topicCounter("bytesin", "Bytes appended to the log by produce requests, per topic (BrokerTopicMetrics BytesInPerSec)."),
		BytesOut:             topicCounter("bytesout", "Bytes returned to consumers by fetch requests, per topic (BrokerTopicMetrics BytesOutPerSec)."),
		MessagesIn:           topicCounter("messagesin", "Records appended by produce requests, per topic (BrokerTopicMetrics MessagesInPerSec)."),
		BytesRejected:        topicCounter("bytesrejected", "Bytes in produce requests that were rejected, per topic."),
		TotalProduceRequests: topicCounter("totalproducerequests", "Produce requests per topic, successful or not."),
		TotalFetchRequests:   topicCounter("totalfetchrequests", "Fetch requests per topic, successful or not."),
		FailedProduce:        topicCounter("failedproducerequests", "Produce requests per topic that failed."),
		FailedFetch:          topicCounter("failedfetchrequests", "Fetch requests per topic that failed."),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_network_requestmetrics_requests_total",
			Help: "Requests handled, by API name and version (RequestMetrics RequestsPerSec).",
		}, []string{"request", "version"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_network_requestmetrics_errors_total",
			Help: "Error codes returned, by API name and Kafka error name (RequestMetrics ErrorsPerSec).",
		}, []string{"request", "error"}),
		TotalTimeMs: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Name:       "kafka_network_requestmetrics_totaltimems",
			Help:       "Time from a request's arrival to its response being written, in milliseconds (RequestMetrics TotalTimeMs).",
			Objectives: map[float64]float64{0.5: 0.05, 0.75: 0.02, 0.95: 0.01, 0.99: 0.001, 0.999: 0.0001},
			MaxAge:     time.Minute,
		}, []string{"request"}),
		Connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kafka_server_socketservermetrics_connection_count",
			Help: "Open client connections, per listener.",
		}, []string{"listener"}),
		ConnectionsCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_server_socketservermetrics_connection_creation_total",
			Help: "Connections accepted, per listener.",
		}, []string{"listener"}),
		ConnectionsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_server_socketservermetrics_connection_close_total",
			Help: "Connections closed, per listener.",
		}, []string{"listener"}),
		ClientConnections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "weir_broker_client_connection_count",
			Help: "Open connections from clients, per listener: connection_count without other brokers' (MSK ClientConnectionCount).",
		}, []string{"listener"}),
		ReplicationBytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_server_brokertopicmetrics_replicationbytesin_total",
			Help: "Record bytes this broker's followers fetched from leaders (BrokerTopicMetrics ReplicationBytesInPerSec).",
		}),
		ReplicationBytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_server_brokertopicmetrics_replicationbytesout_total",
			Help: "Record bytes this broker's leaders sent to followers (BrokerTopicMetrics ReplicationBytesOutPerSec).",
		}),
		ISRShrinks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_server_replicamanager_isrshrinks_total",
			Help: "ISR shrinks of partitions this broker leads, committed by the controller at its request (ReplicaManager IsrShrinksPerSec).",
		}),
		ISRExpands: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_server_replicamanager_isrexpands_total",
			Help: "ISR expansions of partitions this broker leads, committed by the controller at its request (ReplicaManager IsrExpandsPerSec).",
		}),
		ProtocolErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_broker_protocol_errors_total",
			Help: "Connections closed because of an oversized frame, an unknown API, an unsupported version or a request that did not decode.",
		}),
		AuthSuccess: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_server_socketservermetrics_successful_authentication_total",
			Help: "Connections authenticated (SASL, or a TLS handshake on an SSL listener), per listener.",
		}, []string{"listener"}),
		AuthFailure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_server_socketservermetrics_failed_authentication_total",
			Help: "Failed authentications (TLS handshakes, SASL conversations, requests before authenticating), per listener.",
		}, []string{"listener"}),
		requests: &requestStats{},
	}
	m.Parks = &Parks{m: m}
	m.Conversions = &Conversions{m: m}
	reg.MustRegister(m.BytesIn, m.BytesOut, m.MessagesIn, m.BytesRejected,
		m.TotalProduceRequests, m.TotalFetchRequests, m.FailedProduce, m.FailedFetch,
		m.Requests, m.Errors, m.TotalTimeMs, m.Connections, m.ConnectionsCreated,
		m.ConnectionsClosed, m.ClientConnections, m.ReplicationBytesIn, m.ReplicationBytesOut,
		m.ISRShrinks, m.ISRExpands, m.ProtocolErrors, m.AuthSuccess, m.AuthFailure, newStateCollector(src, m.Conversions), newRequestCollector(m.requests),
		newLogFilesCollector(log.DefaultFileCache.Stats))
	return m
}

// ObserveRequest records one handled request: its rate, its total time and
// its phases, under its API's name and, for a fetch, also under its kind
// (FetchConsumer or FetchFollower), as Kafka's RequestMetrics do.
func (m *Broker) ObserveRequest(t RequestTiming) {
	s := m.requestSeries(t)
	s.requests.Inc()
	total := float64(t.Total()) / float64(time.Millisecond)
	s.totalTime.Observe(total)
	s.api.observe(t)
	if s.kindStats != nil {
		s.kindTime.Observe(total)
		s.kindStats.observe(t)
	}
	m.requests.networkBusy.Add(int64(t.network()))
}
