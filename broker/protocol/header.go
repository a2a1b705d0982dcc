package protocol

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersionsKey is the one API whose version negotiation is special-cased.
const ApiVersionsKey = 18

// Header is a decoded request header.
type Header struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string
}

var (
	// ErrUnknownAPI means the API key is not one this broker serves.
	ErrUnknownAPI = errors.New("unknown API key")
	// ErrUnsupportedVersion means the key is served but not at this version.
	ErrUnsupportedVersion = errors.New("unsupported API version")
	// ErrMalformed means the header or body did not decode.
	ErrMalformed = errors.New("malformed request")
)

// Request is a decoded request: its header and its kmsg body. Body is nil
// when Unsupported is set (an ApiVersions request at a version newer than
// ours, which is answered rather than rejected, per KIP-511).
type Request struct {
	Header
	Body        kmsg.Request
	Unsupported bool
}

// ParseRequest decodes a request frame. Errors wrap ErrUnknownAPI,
// ErrUnsupportedVersion or ErrMalformed and mean the connection must close;
// the Header is filled in as far as it was read, for logging.
func ParseRequest(frame []byte) (Request, error) {
	r := kbin.Reader{Src: frame}
	var req Request
	req.Key = r.Int16()
	req.Version = r.Int16()
	req.CorrelationID = r.Int32()
	if cid := r.NullableString(); cid != nil {
		req.ClientID = *cid
	}
	if !r.Ok() {
		return req, fmt.Errorf("%w: short header", ErrMalformed)
	}
	if !Supported(req.Key, req.Version) {
		if req.Key == ApiVersionsKey && req.Version > 0 {
			req.Unsupported = true
			return req, nil
		}
		if _, ok := VersionRange(req.Key); !ok {
			return req, fmt.Errorf("%w %d", ErrUnknownAPI, req.Key)
		}
		return req, fmt.Errorf("%w: %s v%d", ErrUnsupportedVersion, kmsg.NameForKey(req.Key), req.Version)
	}
	body := kmsg.RequestForKey(req.Key)
	body.SetVersion(req.Version)
	if body.IsFlexible() {
		kmsg.SkipTags(&r)
		if !r.Ok() {
			return req, fmt.Errorf("%w: header tagged fields", ErrMalformed)
		}
	}
	if err := decodeBody(body, r.Src); err != nil {
		return req, fmt.Errorf("%w: %s v%d: %v", ErrMalformed, kmsg.NameForKey(req.Key), req.Version, err)
	}
	req.Body = body
	return req, nil
}

// decodeBody runs kmsg's decoder, turning a decoder panic (none is known,
// but the input is hostile) into an error so one bad client cannot take the
// broker down.
func decodeBody(body kmsg.Request, src []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return body.ReadFrom(src)
}
