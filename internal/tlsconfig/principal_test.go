package tlsconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
)

// The cases of Kafka's SslPrincipalMapperTest.
func TestRulesAsKafka(t *testing.T) {
	valid := []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
		"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
		"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
		"RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
	}
	for _, r := range valid {
		if _, err := ParseRules(r); err != nil {
			t.Errorf("%q: %v", r, err)
		}
	}
	invalid := []string{
		"default", "DEFAUL", "DEFAULT/L", "DEFAULT/U",
		"RULE:CN=(.*?),OU=ServiceUsers.*/$1",
		"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
	}
	for _, r := range invalid {
		if rs, err := ParseRules(r); err == nil {
			t.Errorf("%q parsed: %+v", r, rs)
		}
	}
	rules, err := ParseRules("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, " +
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, " +
		"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, " +
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 5 {
		t.Fatalf("%d rules", len(rules))
	}
	for dn, want := range map[string]string{
		"CN=Duke,OU=ServiceUsers,O=Org,C=US":        "duke",
		"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US": "duke@sme",
		"cn=duke,ou=sme,dc=mycp,dc=com":             "DUKE@SME",
		"cN=duke,OU=JavaSoft,O=Sun Microsystems":    "DUKE",
		"OU=JavaSoft,O=Sun Microsystems,C=US":       "OU=JavaSoft,O=Sun Microsystems,C=US",
	} {
		if got, err := rules.Apply(dn); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", dn, got, err, want)
		}
	}
	// A pattern may hold escaped commas.
	rules, err = ParseRules(`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`)
	if err != nil || len(rules) != 2 {
		t.Fatalf("%v %v", rules, err)
	}
	if got, _ := rules.Apply(`CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`); got != `Tkac\, Adam` {
		t.Errorf("escaped comma: %q", got)
	}
	// Without DEFAULT, an unmatched subject has no principal.
	rules, _ = ParseRules("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/")
	if _, err := rules.Apply("CN=x,OU=Other"); err == nil {
		t.Error("an unmatched subject mapped")
	}
	if rs, _ := ParseRules(""); len(rs) != 1 || !rs[0].Default {
		t.Errorf("empty rules: %+v", rs)
	}
}

func TestSubjectDN(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	subject := pkix.Name{
		CommonName: "alice, the admin", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"},
		Country: []string{"US"},
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "example"},
		},
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	got, err := SubjectDN(cert)
	if err != nil {
		t.Fatal(err)
	}
	if want := `DC=example,CN=alice\, the admin,OU=eng,O=Acme,C=US`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// FuzzRules parses arbitrary rule strings and applies them to arbitrary
// subjects: errors, never panics.
func FuzzRules(f *testing.F) {
	f.Add("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT", "CN=Duke,OU=ServiceUsers,O=Org,C=US")
	f.Add(`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`, `CN=Tkac\, Adam,OU=ITZ`)
	f.Add("RULE:(/$9/U", "CN=x")
	f.Fuzz(func(t *testing.T, rules, dn string) {
		rs, err := ParseRules(rules)
		if err != nil {
			return
		}
		rs.Apply(dn)
	})
}
