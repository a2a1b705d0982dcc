// Package protocol is the Kafka wire protocol at the edge of the broker:
// size-prefixed framing, request headers v0–v2, the table of API version
// ranges this broker advertises, and response headers v0–v1; Fetch
// responses framed for one writev with their record sets uncopied
// (fetchframe.go); and Peer, a broker's own client connection to another
// broker (replication, the lifecycle's requests to the controller,
// forwarding).
//
// Message bodies are decoded and encoded by franz-go's kmsg, whose types are
// generated from Kafka's own message specs; this package only handles what
// sits around them. Rules that clients depend on and that are easy to get
// wrong live here:
//
//   - ApiVersions responses always carry a v0 response header (no tagged
//     fields), even for flexible versions (KIP-511), so a client can parse
//     the answer before it knows which versions the broker speaks.
//   - A request for an ApiVersions version newer than this broker's is
//     answered with a v0 body, error UNSUPPORTED_VERSION and the supported
//     ranges, so the client can retry with a version both sides know.
//   - Any other unsupported version, an unknown API key or a body that does
//     not parse is a protocol error: the connection is closed.
package protocol
