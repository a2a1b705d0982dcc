// Package sasl is the broker's side of SASL authentication (KIP-152's
// SaslHandshake and SaslAuthenticate carry its messages): the PLAIN
// (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677)
// server conversations as state machines, and SCRAM credentials in the
// form Kafka stores them (salt, stored key, server key, iterations) — the
// password itself is never kept.
//
// An Authenticator is one connection's SASL state: which requests it may
// send when, and what to answer (see its doc). A Server is one
// conversation: the broker feeds it each client message
// (a SaslAuthenticate request's bytes) and sends back what Step returns,
// until Step reports done (authenticated, Username is the principal's
// name) or fails. Failures are *Error values carrying Kafka's error code
// (SASL_AUTHENTICATION_FAILED, ILLEGAL_SASL_STATE) and the message Kafka
// gives the client, which never says whether the user exists; the Reason
// is for the broker's log. A failed conversation stays failed.
//
// SCRAM follows Kafka's ScramSaslServer: the GS2 header must be "n" (no
// channel binding), an authorization id must equal the user name, the
// server nonce is fresh per conversation (a replayed client-final
// message fails the nonce check), credentials have 4096 to 16384
// iterations, and proofs are compared in constant time. Extensions other
// than tokenauth are ignored; tokenauth (delegation tokens) is refused.
//
// PLAIN checks the password with a Verifier; VerifyWithSCRAM checks it
// against the SCRAM credentials, so PLAIN needs no passwords in config.
//
// Files:
//
//	credential.go  Mechanism, Credential and their derivation (PBKDF2, HMAC)
//	server.go      Server, Error, NewServer, the enabled-mechanism list
//	scram.go       the SCRAM conversation
//	plain.go       the PLAIN conversation
//	authenticator.go  Authenticator: one connection's SASL state (KIP-152
//	               handshake and authenticate, v0 raw tokens, KIP-368
//	               re-authentication and session expiry), no I/O
//	testdata/      the connection rules as scripts (datadriven_test.go)
package sasl
