package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func header(key, version int16, corr int32, clientID string, flexible bool) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, uint16(len(clientID)))
	b = append(b, clientID...)
	if flexible {
		b = append(b, 0)
	}
	return b
}

func TestParseRequest(t *testing.T) {
	meta := kmsg.NewPtrMetadataRequest()
	meta.SetVersion(12)
	metaFrame := append(header(3, 12, 9, "c", true), meta.AppendTo(nil)...)

	prod := kmsg.NewPtrProduceRequest()
	prod.SetVersion(7)
	prod.Acks = -1
	prodFrame := append(header(0, 7, 1, "p", false), prod.AppendTo(nil)...)

	for _, tc := range []struct {
		name        string
		frame       []byte
		err         error
		unsupported bool
	}{
		{"flexible metadata", metaFrame, nil, false},
		{"non-flexible produce", prodFrame, nil, false},
		{"unknown key", header(9999, 0, 1, "x", false), ErrUnknownAPI, false},
		{"produce v13 is above our maximum", header(0, 13, 1, "x", false), ErrUnsupportedVersion, false},
		{"metadata v99", header(3, 99, 1, "x", false), ErrUnsupportedVersion, false},
		{"future api versions is answered", header(18, 99, 1, "x", true), nil, true},
		{"truncated header", []byte{0, 3, 0}, ErrMalformed, false},
		{"truncated body", append(header(0, 7, 1, "p", false), 0, 0), ErrMalformed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseRequest(tc.frame)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if req.Unsupported != tc.unsupported {
				t.Fatalf("unsupported = %v", req.Unsupported)
			}
			if err == nil && !tc.unsupported && req.Body == nil {
				t.Fatal("no body")
			}
		})
	}
}

func TestReadFrameRejectsOversizedAndNegative(t *testing.T) {
	for _, size := range []int32{1 << 30, -1} {
		in := binary.BigEndian.AppendUint32(nil, uint32(size))
		if _, err := ReadFrame(bytes.NewReader(in), nil, 1<<20); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("size %d: err = %v, want ErrFrameTooLarge", size, err)
		}
	}
	in := append(binary.BigEndian.AppendUint32(nil, 3), 'a', 'b', 'c')
	got, err := ReadFrame(bytes.NewReader(in), nil, 1<<20)
	if err != nil || string(got) != "abc" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// kafka39 is Apache Kafka 3.9's validVersions (its message specs at
// 3.9.0) for the APIs this broker serves.
var kafka39 = map[int16]Range{
	0: {0, 0, 11}, 1: {1, 0, 17}, 2: {2, 0, 9}, 3: {3, 0, 12}, 8: {8, 0, 9}, 9: {9, 0, 9},
	10: {10, 0, 6}, 11: {11, 0, 9}, 12: {12, 0, 4}, 13: {13, 0, 5}, 14: {14, 0, 5},
	15: {15, 0, 5}, 16: {16, 0, 5}, 18: {18, 0, 4}, 19: {19, 0, 7}, 20: {20, 0, 6},
	21: {21, 0, 2}, 22: {22, 0, 5}, 23: {23, 0, 4}, 24: {24, 0, 5}, 25: {25, 0, 4},
	26: {26, 0, 4}, 27: {27, 0, 1}, 28: {28, 0, 4}, 32: {32, 0, 4}, 33: {33, 0, 2},
	35: {35, 0, 4}, 37: {37, 0, 3}, 42: {42, 0, 2}, 43: {43, 0, 2}, 44: {44, 0, 1},
	45: {45, 0, 0}, 46: {46, 0, 0}, 47: {47, 0, 0}, 60: {60, 0, 1}, 64: {64, 0, 0},
	61: {61, 0, 0}, 65: {65, 0, 0}, 66: {66, 0, 1},
	68: {68, 0, 0}, 69: {69, 0, 0},
	17: {17, 0, 1}, 36: {36, 0, 2}, 29: {29, 0, 3}, 30: {30, 0, 3}, 31: {31, 0, 3},
	50: {50, 0, 0}, 51: {51, 0, 0},
	57: {57, 0, 1}, // at least; v2 (KIP-1022) may be 3.9's too, and is served
}

// Every advertised range is one kmsg can decode and encode, and covers
// Kafka 3.9's: the same minimum, at least its maximum.
func TestVersionTable(t *testing.T) {
	for _, r := range Ranges() {
		req := kmsg.RequestForKey(r.Key)
		if req == nil || r.Max > req.MaxVersion() {
			t.Errorf("%s: max %d beyond kmsg", kmsg.NameForKey(r.Key), r.Max)
		}
	}
	for _, r := range Ranges() {
		want, ok := kafka39[r.Key]
		if !ok {
			t.Errorf("%s: not in Kafka 3.9's table", kmsg.NameForKey(r.Key))
			continue
		}
		if r.Min != want.Min || r.Max < want.Max {
			t.Errorf("%s v%d–v%d, Kafka 3.9 serves v%d–v%d", kmsg.NameForKey(r.Key), r.Min, r.Max, want.Min, want.Max)
		}
	}
	resp := ApiVersionsResponse(3, true, Features{})
	if resp.GetVersion() != 0 || resp.ErrorCode != 35 {
		t.Errorf("unsupported answer: version %d, code %d", resp.GetVersion(), resp.ErrorCode)
	}
}

func TestAppendResponseHeaders(t *testing.T) {
	av := ApiVersionsResponse(3, false, Features{})
	out := AppendResponse(nil, 5, av)
	// size(4) corr(4) then the body at once: no tagged-field byte for ApiVersions.
	if want := av.AppendTo(nil); !bytes.Equal(out[8:], want) {
		t.Fatal("ApiVersions v3 response has a flexible header")
	}
	md := kmsg.NewPtrMetadataResponse()
	md.SetVersion(12)
	out = AppendResponse(nil, 5, md)
	if out[8] != 0 || !bytes.Equal(out[9:], md.AppendTo(nil)) {
		t.Fatal("Metadata v12 response lacks the v1 header's tagged fields")
	}
	if n := binary.BigEndian.Uint32(out); int(n) != len(out)-4 {
		t.Fatalf("size prefix %d, frame %d", n, len(out)-4)
	}
}

// FuzzParseRequest: no input may panic the decoder. Seeds are real
// requests of several APIs and versions.
func FuzzParseRequest(f *testing.F) {
	for _, r := range Ranges() {
		for _, v := range []int16{r.Min, r.Max} {
			req := kmsg.RequestForKey(r.Key)
			req.SetVersion(v)
			f.Add(append(header(r.Key, v, 1, "seed", req.IsFlexible()), req.AppendTo(nil)...))
		}
	}
	f.Add([]byte{})
	f.Add(header(18, 300, 1, "x", true))
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := ParseRequest(frame)
		if err == nil && !req.Unsupported && req.Body == nil {
			t.Fatal("nil body without error")
		}
	})
}

// TestEveryVersionRoundTrips: a request of every advertised API at every
// version parses (header and body, flexible or not) and re-encodes to the
// same body bytes.
func TestEveryVersionRoundTrips(t *testing.T) {
	for _, r := range Ranges() {
		for v := r.Min; v <= r.Max; v++ {
			req := kmsg.RequestForKey(r.Key)
			req.SetVersion(v)
			body := req.AppendTo(nil)
			parsed, err := ParseRequest(append(header(r.Key, v, 7, "rt", req.IsFlexible()), body...))
			if err != nil {
				t.Errorf("%s v%d: %v", kmsg.NameForKey(r.Key), v, err)
				continue
			}
			if again := parsed.Body.AppendTo(nil); !bytes.Equal(again, body) {
				t.Errorf("%s v%d: %x re-encodes to %x", kmsg.NameForKey(r.Key), v, body, again)
			}
		}
	}
}

// The versions KIP-890 part 2 added are advertised only with
// transaction.version 2 finalized, and the feature levels go out from v3.
func TestApiVersionsTransactionVersionGate(t *testing.T) {
	max := func(resp *kmsg.ApiVersionsResponse, key int16) int16 {
		for _, k := range resp.ApiKeys {
			if k.ApiKey == key {
				return k.MaxVersion
			}
		}
		t.Fatalf("key %d not advertised", key)
		return -1
	}
	sup := map[string]int16{"transaction.version": 2}
	below := ApiVersionsResponse(3, false, Features{Supported: sup, Finalized: map[string]int16{"transaction.version": 1}, Epoch: 7})
	at := ApiVersionsResponse(3, false, Features{Supported: sup, Finalized: map[string]int16{"transaction.version": 2}, Epoch: 9})
	for key, want := range map[int16][2]int16{0: {11, 12}, 26: {4, 5}, 28: {4, 5}, 66: {1, 2}, 24: {5, 5}} {
		if got := [2]int16{max(below, key), max(at, key)}; got != want {
			t.Errorf("%s: max %d below TV2, %d at it; want %d, %d", kmsg.NameForKey(key), got[0], got[1], want[0], want[1])
		}
	}
	if len(at.SupportedFeatures) != 1 || at.SupportedFeatures[0].MaxVersion != 2 || at.FinalizedFeaturesEpoch != 9 ||
		len(at.FinalizedFeatures) != 1 || at.FinalizedFeatures[0].MaxVersionLevel != 2 {
		t.Errorf("features: supported %+v finalized %+v epoch %d", at.SupportedFeatures, at.FinalizedFeatures, at.FinalizedFeaturesEpoch)
	}
	if v2 := ApiVersionsResponse(2, false, Features{Supported: sup}); len(v2.SupportedFeatures) != 0 {
		t.Error("a v2 response carries features")
	}
}
