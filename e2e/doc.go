// Package e2e holds the end-to-end tests: each starts real `weir broker`
// processes through broker/brokertest and drives them with real Kafka
// clients: kcat (librdkafka), kafka-python, confluent-kafka-python, franz-go,
// and hand-built protocol frames for the inputs no well-behaved client sends.
//
// The external clients are Debian packages that `make deps` installs. A test
// whose client is missing fails and says so; none is skipped.
package e2e
