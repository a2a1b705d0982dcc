package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/internal/httpauth"
)

// clusterTransport is how the CLI reaches a secure cluster's HTTP APIs:
// a transport that sends the token of the cluster `weir up --secure` runs
// from dir to the services its endpoints.json lists (the control plane,
// the collector, the autoscaler), and to no other host. nil when no
// secure cluster runs there.
func clusterTransport(dir string) (http.RoundTripper, error) {
	l, err := cluster.NewLayout(dir)
	if err != nil {
		return nil, err
	}
	e, err := cluster.Current(l)
	if errors.Is(err, cluster.ErrNotUp) || err == nil && e.Security == nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	tok, err := httpauth.ReadToken(e.Security.APIToken)
	if err != nil {
		return nil, fmt.Errorf("the secure cluster in %s: %w", l.Dir, err)
	}
	return httpauth.Transport(tok, endpointHosts(e), nil), nil
}

// endpointHosts are the host:port of the HTTP APIs in e.
func endpointHosts(e cluster.Endpoints) []string {
	urls := []string{e.ControlPlane}
	if e.Collector != nil {
		urls = append(urls, e.Collector.API)
	}
	if e.Autoscaler != nil {
		urls = append(urls, e.Autoscaler.API)
	}
	return hostsOf(urls...)
}

// hostsOf is the host:port of each URL given (empty ones skipped).
func hostsOf(urls ...string) []string {
	var out []string
	for _, s := range urls {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}
