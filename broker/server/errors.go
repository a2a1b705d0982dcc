package server

import (
	"errors"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/quorum"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/msgset"
)

// Kafka error codes are response data: they come from franz-go's kerr
// table, never from integer literals.

// logErrorCode maps a log error to the Kafka error code a client expects.
func logErrorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, wlog.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, wlog.ErrUnsupportedMagic):
		return kerr.UnsupportedForMessageFormat.Code
	case errors.Is(err, wlog.ErrMessageTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, wlog.ErrCorruptBatch):
		return kerr.CorruptMessage.Code
	case errors.Is(err, wlog.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber.Code
	case errors.Is(err, wlog.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch.Code
	case errors.Is(err, wlog.ErrTransactionCoordinatorFenced):
		return kerr.TransactionCoordinatorFenced.Code
	case errors.Is(err, wlog.ErrUnknownProducerID):
		return kerr.UnknownProducerID.Code
	case errors.Is(err, wlog.ErrNoKey):
		return kerr.InvalidRecord.Code
	case errors.Is(err, errInvalidTimestamp):
		return kerr.InvalidTimestamp.Code
	case errors.Is(err, errTransactional):
		return kerr.InvalidTxnState.Code
	case errors.Is(err, wlog.ErrClosed):
		// The topic was deleted (or the broker is stopping) under us.
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.KafkaStorageError.Code
}

// legacyErrorCode maps a message-format conversion error (broker/msgset)
// to the code Kafka answers for it.
func legacyErrorCode(err error) int16 {
	switch {
	case errors.Is(err, msgset.ErrUnsupportedCodec):
		return kerr.UnsupportedCompressionType.Code
	case errors.Is(err, msgset.ErrCorrupt):
		return kerr.CorruptMessage.Code
	}
	return kerr.InvalidRecord.Code
}

// errName is the label used for an error code in metrics.
func errName(code int16) string {
	if e := kerr.ErrorForCode(code); e != nil {
		if ke, ok := e.(*kerr.Error); ok {
			return ke.Message
		}
	}
	return "UNKNOWN_SERVER_ERROR"
}

// epochCode checks a request's CurrentLeaderEpoch against ours (KIP-320):
// -1 skips the check.
func epochCode(requested, current int32) int16 {
	switch {
	case requested < 0 || requested == current:
		return 0
	case requested < current:
		return kerr.FencedLeaderEpoch.Code
	default:
		return kerr.UnknownLeaderEpoch.Code
	}
}

func strPtr(s string) *string { return &s }

var errTransactional = errors.New("control batches are written by transaction coordinators only")

func itoa(i int) string { return strconv.Itoa(i) }

var errInvalidTimestamp = errors.New("invalid timestamp")

// errCode maps a proposal error to a Kafka error code: NOT_CONTROLLER when
// leadership moved (before the command was enqueued, or while it was in
// flight: the outcome is then unknown, and Kafka's controller answers
// NOT_CONTROLLER too, so the client asks the new controller), the
// command's own kerr code, else REQUEST_TIMED_OUT.
func errCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case err == nil:
		return 0
	case errors.Is(err, quorum.ErrNotLeader), errors.Is(err, quorum.ErrLeadershipLost):
		return kerr.NotController.Code
	case errors.As(err, &ke):
		return ke.Code
	}
	return kerr.RequestTimedOut.Code
}
