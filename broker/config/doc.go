// Package config is the broker's configuration: a server.properties file read
// with Kafka's property names, and Kafka's topic-level configs with their
// broker-level synonyms and defaults.
//
// Two tables drive everything. brokerTable (keys.go) holds every broker key
// Weir accepts: its Kafka type, default, validation rule, Kafka's dynamic
// update mode and a one-line doc; Load rejects keys that are not in it.
// topicTable (topic.go) holds Kafka's topic configs and the broker keys they
// fall back to. The same tables answer DescribeConfigs for broker and topic
// resources (BrokerKeys, Config.Value, Config.EffectiveTopicConfig).
//
// Files:
//
//	properties.go  the Java properties format (comments, continuations, escapes)
//	keys.go        the broker key table and value checks
//	config.go      Config, Default, Load, Parse, building typed fields
//	value.go       Config.Value: effective broker values for DescribeConfigs
//	listener.go    NAME://host:port listeners
//	suggest.go     "did you mean" for unknown keys
//	logdirs.go     PrepareLogDirs
//	topic.go       the topic key table and ValidateTopicConfig
//	effective.go   resolving a topic's effective configs and TopicSettings
//
// Everything here is pure apart from Load (reads a file) and PrepareLogDirs
// (creates directories).
package config
