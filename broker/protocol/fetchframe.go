package protocol

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch responses are mostly record bytes read from segment files. Encoding
// them with kmsg would copy every record set into one growing buffer; that
// copy was 46% of a consuming broker's CPU. Instead each record set is
// swapped for a unique 20-byte marker, the (now small) response is encoded,
// and the real record sets are spliced back in as separate buffers of one
// writev. The bytes on the wire are identical to the plain encoding
// (fetchframe_test.go checks it for every Fetch version).

// markerSeed makes markers unguessable, so no client-chosen bytes in the
// encoded response (topic names) can imitate one.
var markerSeed = func() [16]byte {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("protocol: crypto/rand failed: " + err.Error())
	}
	return b
}()

const markerLen = 20

func marker(i int) []byte {
	m := make([]byte, markerLen)
	copy(m, markerSeed[:])
	binary.BigEndian.PutUint32(m[16:], uint32(i))
	return m
}

// FetchFrame encodes a Fetch response frame as buffers for one writev. It
// falls back to the plain encoding if a marker cannot be found where
// expected (it cannot, but the fallback is cheap insurance).
func FetchFrame(corr int32, resp *kmsg.FetchResponse) net.Buffers {
	var sets, markers [][]byte
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			if len(p.RecordBatches) > 0 {
				m := marker(len(sets))
				sets, markers = append(sets, p.RecordBatches), append(markers, m)
				p.RecordBatches = m
			}
		}
	}
	head := AppendResponse(nil, corr, resp)
	if out, ok := splice(head, sets, markers, resp.IsFlexible()); ok {
		return out
	}
	i := 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			if p := &resp.Topics[ti].Partitions[pi]; len(p.RecordBatches) > 0 {
				p.RecordBatches = sets[i]
				i++
			}
		}
	}
	return net.Buffers{AppendResponse(nil, corr, resp)}
}

// splice replaces each marker (and its length prefix) in frame with the
// record set's own prefix and bytes.
func splice(frame []byte, sets, markers [][]byte, flexible bool) (net.Buffers, bool) {
	markerPrefix := binary.BigEndian.AppendUint32(nil, markerLen)
	if flexible {
		markerPrefix = binary.AppendUvarint(nil, markerLen+1)
	}
	out := make(net.Buffers, 0, 3*len(sets)+1)
	size := int64(len(frame) - 4)
	pos := 0
	for i, set := range sets {
		idx := bytes.Index(frame[pos:], markers[i])
		if idx < 0 {
			return nil, false
		}
		idx += pos
		start := idx - len(markerPrefix)
		if start < pos || !bytes.Equal(frame[start:idx], markerPrefix) {
			return nil, false
		}
		prefix := binary.BigEndian.AppendUint32(nil, uint32(len(set)))
		if flexible {
			prefix = binary.AppendUvarint(nil, uint64(len(set))+1)
		}
		out = append(out, frame[pos:start], prefix, set)
		size += int64(len(prefix)+len(set)) - int64(len(markerPrefix)+markerLen)
		pos = idx + markerLen
	}
	out = append(out, frame[pos:])
	binary.BigEndian.PutUint32(frame, uint32(size))
	return out, true
}
