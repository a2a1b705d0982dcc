package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/metrics"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
)

func (b *Broker) acceptLoop(l *brokerListener) {
	listener := l.cfg.Name
	for {
		raw, err := l.ln.Accept()
		if err != nil {
			if b.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			b.logger.Error("accept failed; listener stopped", "listener", listener, "err", err)
			return
		}
		if !b.trackConn(raw) {
			raw.Close()
			return
		}
		b.metrics.Connections.WithLabelValues(listener).Inc()
		b.metrics.ConnectionsCreated.WithLabelValues(listener).Inc()
		b.goroutine(func() {
			closeConn := func() {
				b.untrackConn(raw)
				raw.Close()
				b.metrics.Connections.WithLabelValues(listener).Dec()
				b.metrics.ConnectionsClosed.WithLabelValues(listener).Inc()
			}
			c, s, err := b.openSession(raw, l)
			if err != nil {
				closeConn()
				return
			}
			var pre [4]byte
			if _, err := io.ReadFull(c, pre[:]); err == nil && quorum.IsRaftPreamble(pre) && b.mayStreamRaft(s) {
				// A raft connection from another broker's metadata quorum
				// node: the quorum's transport owns it from here.
				b.untrackConn(raw)
				b.metrics.Connections.WithLabelValues(listener).Dec()
				if err := b.stream.Handoff(c); err != nil {
					c.Close()
				}
				return
			} else if err != nil || quorum.IsRaftPreamble(pre) {
				closeConn()
				return
			}
			defer closeConn()
			b.serveConn(c, pre, s)
		})
	}
}

func (b *Broker) trackConn(c net.Conn) bool {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	if b.ctx.Err() != nil {
		return false
	}
	b.connMu.conns[c] = struct{}{}
	return true
}

func (b *Broker) untrackConn(c net.Conn) {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	delete(b.connMu.conns, c)
}

func (b *Broker) closeConns() {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	for c := range b.connMu.conns {
		c.Close()
	}
}

// serveConn handles one connection's requests in order until it closes or
// sends something that is not a valid request. It times each request's
// phases for metrics (broker/metrics: RequestTiming) and counts the
// connection as a client's unless its first request comes from another
// broker.
func (b *Broker) serveConn(c net.Conn, pre [4]byte, s *session) {
	listener := s.listener.cfg.Name
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(pre[:]), c), 64<<10)
	var out []byte
	// spare is the last Produce's frame, read into again: a producer's
	// requests are megabytes each, and allocating them anew was half of
	// the bytes a leader allocated under load. Only a Produce's frame is
	// reused, because nothing keeps a Produce's bytes after its response is
	// written (the log writes them out; strings are copied by decoding);
	// other requests' byte fields (JoinGroup metadata, say) are kept.
	var spare []byte
	first, client := true, false
	if _, ok := c.(*net.TCPConn); ok && b.cfg.FetchSendfile {
		s.files = &fetchFiles{} // plaintext: Fetch record sets go out with sendfile
	}
	defer s.files.release()
	defer func() {
		if client {
			b.metrics.ClientConnections.WithLabelValues(listener).Dec()
		}
	}()
	for {
		frame, err := protocol.ReadFrame(r, spare, b.cfg.SocketRequestMaxBytes)
		spare = nil
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && b.ctx.Err() == nil {
				b.protocolError(c, protocol.Header{}, err)
			}
			return
		}
		if s.auth != nil && s.auth.RawTokens() {
			if !b.rawToken(c, s, frame) {
				return
			}
			continue
		}
		start := time.Now() // request phases are wall latency (metrics), not broker time
		req, err := protocol.ParseRequest(frame)
		if err != nil {
			b.protocolError(c, req.Header, err)
			return
		}
		decoded := time.Now()
		if first {
			first, client = false, !isPeerClientID(req.ClientID)
			if client {
				b.metrics.ClientConnections.WithLabelValues(listener).Inc()
			}
		}
		resp, closeErr := b.handle(s, req)
		if resp == nil || closeErr != nil {
			s.files.release()
		}
		handled := time.Now()
		if _, ok := req.Body.(*kmsg.ProduceRequest); ok {
			spare = frame
		}
		if closeErr != nil && resp != nil {
			b.writeResponse(c, s, &out, req.CorrelationID, resp) // the error, then close (SASL)
		}
		if closeErr != nil {
			b.logger.Info("closing connection", "remote", c.RemoteAddr().String(), "client_id", req.ClientID, "reason", closeErr)
			return
		}
		t := metrics.RequestTiming{API: kmsg.NameForKey(req.Key), Kind: fetchKind(req.Body), Version: req.Version,
			Bytes: len(frame), Queue: decoded.Sub(start), Handler: handled.Sub(decoded), ThrottleMs: throttleMs(resp)}
		if resp == nil { // acks=0 produce
			b.metrics.ObserveRequest(t)
			continue
		}
		encoded, err := b.writeResponse(c, s, &out, req.CorrelationID, resp)
		if err != nil {
			if errors.Is(err, protocol.ErrRecordsChanged) {
				b.logger.Info("closing connection: a log was truncated while a fetch answer was sent from it", "remote", c.RemoteAddr().String(), "client_id", req.ClientID)
			}
			return
		}
		t.ResponseQueue, t.ResponseSend = encoded.Sub(handled), time.Since(encoded)
		b.metrics.ObserveRequest(t)
	}
}

// isPeerClientID reports whether a client id is one Weir's brokers use
// among themselves (broker/lifecycle, broker/replication).
func isPeerClientID(id string) bool {
	return strings.HasPrefix(id, "weir-broker-") || strings.HasPrefix(id, "weir-replica-fetcher-")
}

// fetchKind is the RequestMetrics name a fetch is also recorded under:
// FetchFollower for a replica's, FetchConsumer for a consumer's.
func fetchKind(body kmsg.Request) string {
	f, ok := body.(*kmsg.FetchRequest)
	switch {
	case !ok:
		return ""
	case replicaID(f) >= 0:
		return metrics.FetchFollower
	}
	return metrics.FetchConsumer
}

// throttleMs is the throttle time a response carries (0 for none).
func throttleMs(resp kmsg.Response) int32 {
	if t, ok := resp.(kmsg.ThrottleResponse); ok {
		ms, _ := t.Throttle()
		return ms
	}
	return 0
}

func (b *Broker) protocolError(c net.Conn, h protocol.Header, err error) {
	b.metrics.ProtocolErrors.Inc()
	b.logger.Warn("closing connection after a protocol error", "remote", c.RemoteAddr().String(),
		"api_key", h.Key, "api_version", h.Version, "client_id", h.ClientID, "err", err)
}

// handle dispatches a decoded request to its handler. A nil response means
// nothing is written (acks=0 produce); an error means the connection must
// be closed (a failed acks=0 produce).
func (b *Broker) handle(s *session, req protocol.Request) (kmsg.Response, error) {
	if req.Unsupported {
		return protocol.ApiVersionsResponse(req.Version, true, b.features()), nil
	}
	if s.auth != nil {
		if serve, resp, closeErr := b.authenticate(s, req); !serve {
			if resp == nil && closeErr == nil {
				closeErr = errors.New("SASL: request refused")
			}
			return resp, closeErr
		}
	}
	if resp, closeErr, ok := b.handleSecurity(s, req); ok {
		return resp, closeErr
	}
	if p, ok := req.Body.(*kmsg.ProduceRequest); ok {
		return b.handleProduce(p)
	}
	if f, ok := req.Body.(*kmsg.FetchRequest); ok {
		resp := b.handleFetch(f, s.files)
		b.localizeEndpoints(s, resp)
		return resp, nil
	}
	resp := b.dispatch(req)
	b.localizeEndpoints(s, resp)
	return resp, nil
}

// dispatch routes every request but Produce to its handler.
func (b *Broker) dispatch(req protocol.Request) kmsg.Response {
	switch body := req.Body.(type) {
	case *kmsg.FetchRequest:
		return b.handleFetch(body, nil)
	case *kmsg.ListOffsetsRequest:
		return b.handleListOffsets(body)
	case *kmsg.MetadataRequest:
		return b.handleMetadata(body)
	case *kmsg.ApiVersionsRequest:
		return b.handleApiVersions(body)
	case *kmsg.CreateTopicsRequest:
		return b.handleCreateTopics(body)
	case *kmsg.DeleteTopicsRequest:
		return b.handleDeleteTopics(body)
	case *kmsg.DeleteRecordsRequest:
		return b.handleDeleteRecords(body)
	case *kmsg.InitProducerIDRequest:
		return b.handleInitProducerID(body)
	case *kmsg.OffsetForLeaderEpochRequest:
		return b.handleOffsetForLeaderEpoch(body)
	case *kmsg.DescribeConfigsRequest:
		return b.handleDescribeConfigs(body)
	case *kmsg.AlterConfigsRequest:
		return b.handleAlterConfigs(body)
	case *kmsg.DescribeLogDirsRequest:
		return b.handleDescribeLogDirs(body)
	case *kmsg.CreatePartitionsRequest:
		return b.handleCreatePartitions(body)
	case *kmsg.IncrementalAlterConfigsRequest:
		return b.handleIncrementalAlterConfigs(body)
	case *kmsg.DescribeClusterRequest:
		return b.handleDescribeCluster(body)
	case *kmsg.ElectLeadersRequest:
		return b.handleElectLeaders(body)
	case *kmsg.AlterPartitionAssignmentsRequest:
		return b.handleAlterPartitionAssignments(body)
	case *kmsg.ListPartitionReassignmentsRequest:
		return b.handleListPartitionReassignments(body)
	case *kmsg.AlterPartitionRequest:
		return b.handleAlterPartition(body)
	case *kmsg.BrokerRegistrationRequest:
		return b.handleBrokerRegistration(body)
	case *kmsg.BrokerHeartbeatRequest:
		return b.handleBrokerHeartbeat(body)
	case *kmsg.UnregisterBrokerRequest:
		return b.handleUnregisterBroker(body)
	case *kmsg.AllocateProducerIDsRequest:
		return b.handleAllocateProducerIDs(body)
	case *kmsg.OffsetCommitRequest:
		return b.handleOffsetCommit(body)
	case *kmsg.OffsetFetchRequest:
		return b.handleOffsetFetch(body)
	case *kmsg.FindCoordinatorRequest:
		return b.handleFindCoordinator(body)
	case *kmsg.JoinGroupRequest:
		return b.handleJoinGroup(body, req.ClientID)
	case *kmsg.HeartbeatRequest:
		return b.handleHeartbeat(body)
	case *kmsg.LeaveGroupRequest:
		return b.handleLeaveGroup(body)
	case *kmsg.SyncGroupRequest:
		return b.handleSyncGroup(body)
	case *kmsg.DescribeGroupsRequest:
		return b.handleDescribeGroups(body)
	case *kmsg.ListGroupsRequest:
		return b.handleListGroups(body)
	case *kmsg.DeleteGroupsRequest:
		return b.handleDeleteGroups(body)
	case *kmsg.OffsetDeleteRequest:
		return b.handleOffsetDelete(body)
	case *kmsg.ConsumerGroupHeartbeatRequest:
		return b.handleConsumerGroupHeartbeat(body, req.ClientID)
	case *kmsg.ConsumerGroupDescribeRequest:
		return b.handleConsumerGroupDescribe(body)
	case *kmsg.AddPartitionsToTxnRequest:
		return b.handleAddPartitionsToTxn(body)
	case *kmsg.AddOffsetsToTxnRequest:
		return b.handleAddOffsetsToTxn(body)
	case *kmsg.EndTxnRequest:
		return b.handleEndTxn(body)
	case *kmsg.WriteTxnMarkersRequest:
		return b.handleWriteTxnMarkers(body)
	case *kmsg.TxnOffsetCommitRequest:
		return b.handleTxnOffsetCommit(body)
	case *kmsg.DescribeProducersRequest:
		return b.handleDescribeProducers(body)
	case *kmsg.DescribeTransactionsRequest:
		return b.handleDescribeTransactions(body)
	case *kmsg.ListTransactionsRequest:
		return b.handleListTransactions(body)
	case *kmsg.UpdateFeaturesRequest:
		return b.handleUpdateFeatures(body)
	}
	// protocol.ParseRequest only returns keys in its version table, and the
	// table's init check ties it to this switch through the tests.
	panic("server: no handler for " + kmsg.NameForKey(req.Key))
}

// writeResponse frames and writes one response, and returns when it was
// encoded (the rest is writing). Fetch responses go out with writev, their
// record sets spliced in uncopied (protocol.FetchFrame), or on a plaintext
// connection sent from their segment files (protocol.WriteFetch).
func (b *Broker) writeResponse(c net.Conn, s *session, out *[]byte, corr int32, resp kmsg.Response) (time.Time, error) {
	if f, ok := resp.(*kmsg.FetchResponse); ok {
		// The in-memory record sets are Log.Read's buffers (or
		// down-converted copies of them), referenced by nothing once
		// written: they go back to the log's pool. File markers are
		// not pooled sizes, so ReleaseRead passes over them.
		var sets [][]byte
		for _, t := range f.Topics {
			for _, p := range t.Partitions {
				if cap(p.RecordBatches) > 0 {
					sets = append(sets, p.RecordBatches)
				}
			}
		}
		defer wlog.ReleaseRead(sets...)
		encoded := time.Now()
		if s.files != nil && len(s.files.slices) > 0 {
			defer s.files.release()
			b.sentFromFiles.Add(int64(len(s.files.slices)))
			return encoded, protocol.WriteFetch(c.(*net.TCPConn), corr, f, s.files.records())
		}
		bufs := protocol.FetchFrame(corr, f)
		encoded = time.Now()
		_, err := bufs.WriteTo(c)
		return encoded, err
	}
	*out = protocol.AppendResponse((*out)[:0], corr, resp)
	encoded := time.Now()
	_, err := c.Write(*out)
	if cap(*out) > 1<<20 {
		*out = nil // do not pin a large response's buffer
	}
	return encoded, err
}
