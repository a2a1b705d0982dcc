// Package tlsconfig builds crypto/tls configurations from Kafka's ssl.*
// keys, for the broker's SSL and SASL_SSL listeners and for the client
// side of broker-to-broker, agent and collector connections, and maps a
// client certificate's subject to a Kafka principal.
//
// Weir reads PEM only (Kafka's ssl.keystore.type=PEM and
// ssl.truststore.type=PEM; JKS and PKCS12 are refused):
//
//	ssl.keystore.location           a PEM file holding the private key
//	                                (unencrypted PKCS#8, PKCS#1 or SEC 1)
//	                                and the certificate chain, leaf first
//	ssl.keystore.certificate.chain  or the chain and the key inline
//	ssl.keystore.key                (not reloaded)
//	ssl.key.password                refused: encrypted keys are not read;
//	                                protect the file by its mode instead
//	ssl.truststore.location         a PEM file of CA certificates
//	ssl.truststore.certificates     or the same inline
//	ssl.client.auth                 required | requested | none (default)
//	ssl.enabled.protocols           TLSv1.2,TLSv1.3 (default); older refused
//	ssl.cipher.suites               IANA names; TLS 1.2 only (Go fixes
//	                                TLS 1.3's suites)
//	ssl.principal.mapping.rules     DEFAULT, or RULE:pattern/replacement/[LU]
//	ssl.endpoint.identification.algorithm
//	                                https (default): a client checks the
//	                                server's name; empty: it does not
//
// Per-listener values (listener.name.<name>.ssl.keystore.location …)
// take precedence over the plain keys, as in Kafka.
//
// Certificates are reloaded without a restart: every handshake checks
// the keystore and truststore files' identity, size and modification
// time (one stat each) and re-reads them when they changed. A file that
// does not parse (half-written) keeps the previous certificate in use and
// is retried on the next handshake; OnReloadError hears about it. Write
// new files by rename for an atomic switch.
//
// Files:
//
//	config.go     Config, reading it from properties, validation
//	reload.go     the reloading keystore and truststore
//	tls.go        Server (tls.Config, Principal) and Client
//	principal.go  ssl.principal.mapping.rules and the RFC 2253 subject
package tlsconfig
