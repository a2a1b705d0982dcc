package quorum

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/sasl"
)

func upsert(t *testing.T, user string, m sasl.Mechanism, password string) ScramUpsertion {
	t.Helper()
	salt := []byte("salt-of-" + user)
	sp, err := sasl.SaltedPassword(m, password, salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	return NewScramUpsertion(user, m, 4096, salt, sp)
}

// TestScramCredentialsAuthenticate: a credential set through the log
// authenticates franz-go's client against the image (the image is the
// broker's sasl.Credentials), before and after a snapshot round trip,
// and the salted password is nowhere in the image.
func TestScramCredentialsAuthenticate(t *testing.T) {
	b := newBuilder(t)
	res := b.must(AlterScramCredentials{Upsertions: []ScramUpsertion{
		upsert(t, "alice", sasl.ScramSHA512, "s3cret"),
		upsert(t, "bob", sasl.ScramSHA256, "hunter2"),
	}}).([]UserResult)
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	b.must(CreateACLs{Bindings: []acl.Binding{{
		Resource: acl.Resource{Type: acl.ResourceTopic, Name: "orders", Pattern: acl.PatternLiteral},
		Entry:    acl.Entry{Principal: "User:alice", Host: "*", Operation: acl.OpRead, Permission: acl.Allow},
	}}})
	restored, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, b.img)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(restored.Scram, b.img.Scram) || !reflect.DeepEqual(restored.ACLs, b.img.ACLs) {
		t.Fatalf("snapshot lost security metadata:\n%+v\n%+v", restored, b.img)
	}
	for _, img := range []*Image{b.img, restored} {
		for _, c := range []struct {
			user, pass string
			mech       string
			ok         bool
		}{
			{"alice", "s3cret", sasl.NameScramSHA512, true},
			{"alice", "wrong", sasl.NameScramSHA512, false},
			{"alice", "s3cret", sasl.NameScramSHA256, false},
			{"bob", "hunter2", sasl.NameScramSHA256, true},
		} {
			srv, err := sasl.NewServer(c.mech, sasl.Supported, sasl.Options{Credentials: img})
			if err != nil {
				t.Fatal(err)
			}
			a := scram.Auth{User: c.user, Pass: c.pass}
			mech := a.AsSha512Mechanism()
			if c.mech == sasl.NameScramSHA256 {
				mech = a.AsSha256Mechanism()
			}
			sess, msg, _ := mech.Authenticate(context.Background(), "")
			err = nil
			for done := false; !done && err == nil; {
				var reply []byte
				if reply, done, err = srv.Step(msg); err == nil {
					_, msg, err = sess.Challenge(reply)
				}
			}
			if (err == nil) != c.ok {
				t.Errorf("%+v: %v", c, err)
			}
		}
		a := acl.NewAuthorizer(acl.Config{})
		a.SetBindings(img.ACLs)
		if !a.Allowed("User:alice", "1.2.3.4", acl.OpRead, acl.ResourceTopic, "orders") {
			t.Error("alice's ACL did not survive")
		}
	}
}

// Security commands never modify a published image.
func TestSecurityLeavesOldImagesAlone(t *testing.T) {
	b := newBuilder(t)
	b.must(AlterScramCredentials{Upsertions: []ScramUpsertion{upsert(t, "a", sasl.ScramSHA256, "p")}})
	b.must(CreateACLs{Bindings: []acl.Binding{{
		Resource: acl.Resource{Type: acl.ResourceGroup, Name: "g", Pattern: acl.PatternPrefixed},
		Entry:    acl.Entry{Principal: "User:a", Host: "*", Operation: acl.OpRead, Permission: acl.Allow},
	}}})
	old := b.img
	snap := snapshotBytes(t, old)
	b.must(AlterScramCredentials{Upsertions: []ScramUpsertion{upsert(t, "a", sasl.ScramSHA512, "p"), upsert(t, "b", sasl.ScramSHA256, "q")},
		Deletions: []ScramDeletion{{User: "a", Mechanism: sasl.ScramSHA256}}})
	b.must(CreateACLs{Bindings: []acl.Binding{{
		Resource: acl.Resource{Type: acl.ResourceGroup, Name: "h", Pattern: acl.PatternLiteral},
		Entry:    acl.Entry{Principal: "User:a", Host: "*", Operation: acl.OpRead, Permission: acl.Allow},
	}}})
	b.must(DeleteACLs{Filters: []acl.BindingFilter{acl.AnyFilter}})
	if got := snapshotBytes(t, old); string(got) != string(snap) {
		t.Fatalf("old image changed:\n%s\n%s", snap, got)
	}
	if len(b.img.ACLs) != 0 || len(b.img.Scram) != 2 {
		t.Fatalf("new image: %+v", b.img)
	}
	// A command whose every alteration fails changes nothing.
	before := b.img
	res := b.must(AlterScramCredentials{Deletions: []ScramDeletion{{User: "zed", Mechanism: sasl.ScramSHA256}}}).([]UserResult)
	if b.img != before || len(res) != 1 || res[0].Err == nil {
		t.Fatalf("a failed deletion: %+v", res)
	}
	var e interface{ Unwrap() error }
	if !errors.As(res[0].Err, &e) {
		t.Fatalf("not a wrapped code: %v", res[0].Err)
	}
}
