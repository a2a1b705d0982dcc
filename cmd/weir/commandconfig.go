package main

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/internal/kafkaclient"
)

// A client config (--command-config, as Kafka's tools take it) is a Java
// properties file with a client's security keys; `weir up --secure`
// writes one. internal/kafkaclient reads it (the agent and the collector
// share it).

// readProperties reads a client config file.
func readProperties(path string) (map[string]string, error) { return kafkaclient.ReadFile(path) }

// securityOpts turns a client config into kgo options.
func securityOpts(props map[string]string) ([]kgo.Opt, error) { return kafkaclient.Options(props) }
