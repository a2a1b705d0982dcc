# Weir's build, test and lint entry points. CI runs `make lint` then `make test` (see .ci/run).

GO        ?= go
BIN       := bin/weir
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
CONFIG    ?= config/server.properties
FUZZTIME  ?= 30s
SOAK_TIME ?= 10m
# Pinned: the newest release the module proxy serves (go list -m -versions honnef.co/go/tools).
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build run run-single test console-test netfault soak deps vet bench lint fuzz clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/weir

# A whole cluster on this machine: 3 brokers (RF=3, min.insync.replicas=2)
# with an agent beside each, the collector, the autoscaler (1 GiB of
# provisioned storage per broker, grown by autoscaler/policies/local-small.yaml)
# and Prometheus/Alertmanager, supervised by weir up; data in ./weir-data.
# --storage applies to a new cluster only (grow a saved one with
# `weir cluster update-broker-storage`).
run: build
	$(BIN) up --dir weir-data --agents $(if $(wildcard weir-data/cluster.json),,--storage 1GiB) \
		--autoscaler-policy autoscaler/policies/local-small.yaml

# One broker from config/server.properties (data in ./weir-data-single).
run-single: build
	$(BIN) broker --config $(CONFIG) --override log.dirs=weir-data-single

deps:
	scripts/install-deps.sh

vet:
	$(GO) vet ./...

# The namespaced-cluster tests (e2e/netns_*_test.go: one short cycle of each
# network fault) run here as root and skip, saying why, elsewhere.
# ./e2e is the long pole. Every one of its tests calls t.Parallel
# (TestEveryTestIsParallel keeps it so): a serial test runs alone before all
# the parallel ones, and 17 of them were 5.4 minutes of its 15. Parallelism
# stays the default (GOMAXPROCS, two e2e tests at a time here): -parallel 4
# ran the suite in about 10 minutes instead of 13-15, but starved the
# brokers' raft timers on two cores (a controller stepped down
# mid-CreateTopics; a console topic create timed out), so it stays off until
# those timings are Kafka-like. ./e2e is named first: go test builds and
# starts packages in the order named (./... does not run it twice), so the
# long pole starts as soon as its binary is linked, not after most others.
test: deps vet
	$(GO) test -race -count=1 -timeout 20m ./e2e/ ./...

# Every network fault of e2e/netns_fault_test.go (isolate a leader, isolate
# the controller, split 1|2, one-way, slow and lossy link, flapping link, and
# a leader cut from the controller only), each on its own namespaced 3-broker
# cluster, cycled for SOAK_TIME in all (an equal share each); `make netfault` runs
# one short cycle of the first six. Needs root (network namespaces); prints
# one SUMMARY line per fault.
soak: deps
	@echo "soak: every network fault for $(SOAK_TIME) in all; full output in soak.log"
	@WEIR_NETFAULT_SOAK=$(SOAK_TIME) $(GO) test -race -count=1 -timeout 0 -v -run '^TestNetworkFaults$$' ./e2e/ >soak.log 2>&1; \
		rc=$$?; grep -E '^\s*(--- |ok|FAIL|panic)|SUMMARY' soak.log; exit $$rc

# The namespaced-cluster tests alone, as make test runs them: one short
# cycle of each network fault and the doc-config test (root; about 100 s;
# skipped, saying why, without root, iproute2 or nft).
netfault: deps
	@$(GO) test -race -count=1 -run '^TestNetwork' -v ./e2e/ >netfault.log 2>&1; \
		rc=$$?; grep -E '^\s*(--- |ok|FAIL|panic)|SUMMARY' netfault.log; exit $$rc

# The console's browser test (headless Chromium) alone; make test runs it
# too (docs/CONSOLE.md).
console-test: deps
	$(GO) test -race -count=1 -run '^TestConsole$$' -v ./e2e/

bench: build
	$(BIN) bench compare
	$(BIN) bench txn
	$(BIN) bench tls
	$(GO) test -run '^$$' -bench . -skip ControlledShutdown -benchmem ./broker/...
	# A 3-broker cluster with 500 and 5,000 partitions at RF 3: the seconds
	# a controlled shutdown, the stop of the rest and a restart take.
	$(GO) test -run '^$$' -bench ControlledShutdown -benchtime 1x -timeout 30m ./broker/brokertest/
	$(GO) test -run '^$$' -bench Plan -benchtime 1x -benchmem ./collector/planner/
	$(GO) test -run '^$$' -bench FirstRender5000 -benchtime 5x ./collector/console/
	$(GO) test -run '^$$' -bench 'ReplicationPath|ScaleCluster' -benchtime 1x -timeout 90m ./e2e/

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -w needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin weir-data weir-data-single soak.log
	$(GO) clean -testcache
