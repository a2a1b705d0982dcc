package tlsconfig

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Rule is one ssl.principal.mapping.rules rule: DEFAULT (the subject as
// it is) or RULE:pattern/replacement/[LU].
type Rule struct {
	Default     bool
	Pattern     *regexp.Regexp // anchored: the whole subject must match
	Replacement string         // in Go's syntax ($1 became ${1})
	Lower       bool
	Upper       bool
}

// Rules apply in order; the first that matches names the principal.
type Rules []Rule

// ErrNoMatchingRule is a subject no rule maps.
var ErrNoMatchingRule = errors.New("no rule of ssl.principal.mapping.rules applies to the certificate subject")

// Kafka's SslPrincipalMapper grammar.
const rulePattern = `(DEFAULT)|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?).*?|(.*?)`

var (
	ruleSplitter = regexp.MustCompile(`^\s*(` + rulePattern + `)\s*(?:,\s*|$)`)
	ruleParser   = regexp.MustCompile(`^(?:` + rulePattern + `)`)
	javaGroupRef = regexp.MustCompile(`\$(\d+)`)
)

// ParseRules reads ssl.principal.mapping.rules: rules separated by
// commas (a pattern may itself hold commas), each DEFAULT or
// RULE:pattern/replacement/ with an optional L (lower case) or U (upper
// case) after it. Patterns are regular expressions matched against the
// whole subject; replacements refer to groups as $1. Empty means DEFAULT.
func ParseRules(s string) (Rules, error) {
	if strings.TrimSpace(s) == "" {
		return Rules{{Default: true}}, nil
	}
	var out Rules
	for rest := s; rest != ""; {
		m := ruleSplitter.FindStringSubmatchIndex(rest)
		if m == nil || m[1] == 0 {
			return nil, fmt.Errorf("ssl.principal.mapping.rules: invalid rule at %q", rest)
		}
		text := strings.TrimSpace(rest[m[2]:m[3]])
		rest = rest[m[1]:]
		if text == "" {
			continue
		}
		r, err := parseRule(text)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func parseRule(text string) (Rule, error) {
	m := ruleParser.FindStringSubmatchIndex(text)
	if m == nil || m[1] != len(text) {
		return Rule{}, fmt.Errorf("ssl.principal.mapping.rules: invalid rule %q", text)
	}
	group := func(i int) (string, bool) {
		if m[2*i] < 0 {
			return "", false
		}
		return text[m[2*i]:m[2*i+1]], true
	}
	if _, ok := group(1); ok {
		return Rule{Default: true}, nil
	}
	pat, ok := group(2)
	if !ok {
		return Rule{}, fmt.Errorf("ssl.principal.mapping.rules: invalid rule %q", text)
	}
	repl, _ := group(3)
	flag, _ := group(4)
	re, err := regexp.Compile(`^(?:` + pat + `)$`)
	if err != nil {
		return Rule{}, fmt.Errorf("ssl.principal.mapping.rules: rule %q: %w", text, err)
	}
	return Rule{Pattern: re, Replacement: javaGroupRef.ReplaceAllString(repl, `$${$1}`),
		Lower: flag == "L", Upper: flag == "U"}, nil
}

// Apply maps a subject to a principal name with the first rule that
// matches it.
func (rs Rules) Apply(dn string) (string, error) {
	for _, r := range rs {
		if r.Default {
			return dn, nil
		}
		if !r.Pattern.MatchString(dn) {
			continue
		}
		out := r.Pattern.ReplaceAllString(dn, r.Replacement)
		switch {
		case r.Lower:
			out = strings.ToLower(out)
		case r.Upper:
			out = strings.ToUpper(out)
		}
		if out == "" {
			return "", fmt.Errorf("%w: rule %s maps %q to an empty name", ErrNoMatchingRule, r.Pattern, dn)
		}
		return out, nil
	}
	return "", fmt.Errorf("%w: %q", ErrNoMatchingRule, dn)
}

// The attribute keywords of RFC 2253 as Java's X500Principal.getName()
// writes them; other attributes are written as OID=#hex.
var keywords = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}

// SubjectDN is a certificate's subject as Kafka sees it (Java's
// X500Principal.getName(), RFC 2253): most specific first, e.g.
// "CN=alice,OU=eng,O=Acme,C=US".
func SubjectDN(cert *x509.Certificate) (string, error) {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &seq); err != nil || len(rest) > 0 {
		return "", fmt.Errorf("parsing the certificate subject: %v", err)
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		for j, atv := range seq[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			oid := atv.Type.String()
			s, isString := atv.Value.(string)
			if kw, ok := keywords[oid]; ok && isString {
				b.WriteString(kw + "=" + escapeDN(s))
				continue
			}
			der, err := asn1.Marshal(atv.Value)
			if err != nil {
				return "", fmt.Errorf("encoding subject attribute %s: %v", oid, err)
			}
			b.WriteString(oid + "=#" + hex.EncodeToString(der))
		}
	}
	return b.String(), nil
}

// escapeDN escapes an attribute value as RFC 2253 section 2.4 does.
func escapeDN(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(s)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
