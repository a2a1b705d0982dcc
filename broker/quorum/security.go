package quorum

import (
	"fmt"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/sasl"
)

// This file holds the security metadata: users' SCRAM credentials (what
// AlterUserScramCredentials changes and DescribeUserScramCredentials
// lists) and ACL bindings (CreateAcls, DeleteAcls). Like Kafka's
// UserScramCredentialRecord, a credential is kept as salt, stored key,
// server key and iterations; the salted password an
// AlterUserScramCredentials upsertion carries is turned into the keys by
// the proposer (NewScramUpsertion) and never reaches the log.

// ScramDeletion removes one user's credential for one mechanism.
type ScramDeletion struct {
	User      string         `json:"user"`
	Mechanism sasl.Mechanism `json:"mechanism"`
}

// ScramUpsertion sets one user's credential for one mechanism.
type ScramUpsertion struct {
	User       string          `json:"user"`
	Mechanism  sasl.Mechanism  `json:"mechanism"`
	Credential sasl.Credential `json:"credential"`
}

// NewScramUpsertion builds an upsertion from an AlterUserScramCredentials
// request's fields: the stored and server keys are derived from the
// salted password here, on the proposer. An unknown mechanism gives an
// upsertion that apply refuses with UNSUPPORTED_SASL_MECHANISM.
func NewScramUpsertion(user string, m sasl.Mechanism, iterations int32, salt, saltedPassword []byte) ScramUpsertion {
	u := ScramUpsertion{User: user, Mechanism: m, Credential: sasl.Credential{Salt: salt, Iterations: iterations}}
	if m.Valid() && len(salt) > 0 && len(saltedPassword) > 0 {
		u.Credential = sasl.CredentialFromSaltedPassword(m, salt, saltedPassword, iterations)
	}
	return u
}

// AlterScramCredentials is AlterUserScramCredentials. The command itself
// succeeds; each user named has a result, and a user's alterations apply
// all together or (on any error) not at all. Result: []UserResult.
type AlterScramCredentials struct {
	Deletions  []ScramDeletion  `json:"deletions,omitempty"`
	Upsertions []ScramUpsertion `json:"upsertions,omitempty"`
}

// UserResult is one user's outcome; Err is nil or wraps a kerr code.
type UserResult struct {
	User string
	Err  error
}

// CreateACLs is CreateAcls: each binding is validated on its own
// (INVALID_REQUEST) and the valid ones are added; adding a binding that
// exists already succeeds and changes nothing. Result: []error, one per
// binding, nil for success.
type CreateACLs struct {
	Bindings []acl.Binding `json:"bindings"`
}

// DeleteACLs is DeleteAcls: each filter deletes the bindings it matches.
// A binding several filters match is reported under each of them (as
// KRaft's AclControlManager does) and deleted once. Result:
// []DeleteACLsResult, one per filter.
type DeleteACLs struct {
	Filters []acl.BindingFilter `json:"filters"`
}

// DeleteACLsResult is one filter's outcome: the bindings it deleted, or
// Err (INVALID_REQUEST for a filter with an UNKNOWN field).
type DeleteACLsResult struct {
	Deleted []acl.Binding
	Err     error
}

func (AlterScramCredentials) Op() string { return "alter_scram_credentials" }
func (CreateACLs) Op() string            { return "create_acls" }
func (DeleteACLs) Op() string            { return "delete_acls" }

func (c AlterScramCredentials) apply(t *txn, _ uint64) (any, error) {
	img := t.view()
	// Users in the order first named, each with its alterations.
	var users []string
	pairs := map[string]map[sasl.Mechanism]int{}
	note := func(user string, m sasl.Mechanism) {
		if pairs[user] == nil {
			users = append(users, user)
			pairs[user] = map[sasl.Mechanism]int{}
		}
		pairs[user][m]++
	}
	for _, d := range c.Deletions {
		note(d.User, d.Mechanism)
	}
	for _, u := range c.Upsertions {
		note(u.User, u.Mechanism)
	}
	errs := map[string]error{}
	fail := func(user string, err error) {
		if errs[user] == nil {
			errs[user] = err
		}
	}
	for _, user := range users {
		ms := pairs[user]
		if user == "" {
			fail(user, kafkaErr(kerr.UnacceptableCredential, "alter SCRAM credentials: username must not be empty"))
		}
		for _, n := range ms {
			if n > 1 {
				fail(user, kafkaErr(kerr.DuplicateResource, "alter SCRAM credentials of %q: a user credential cannot be altered twice in the same request", user))
			}
		}
	}
	for _, d := range c.Deletions {
		switch _, ok := img.Credential(d.Mechanism, d.User); {
		case !d.Mechanism.Valid():
			fail(d.User, kafkaErr(kerr.UnsupportedSaslMechanism, "delete SCRAM credential of %q: unknown SCRAM mechanism %d", d.User, d.Mechanism))
		case !ok:
			fail(d.User, kafkaErr(kerr.ResourceNotFound, "delete %s credential of %q: attempt to delete a user credential that does not exist", d.Mechanism, d.User))
		}
	}
	for _, u := range c.Upsertions {
		cr := u.Credential
		switch {
		case !u.Mechanism.Valid():
			fail(u.User, kafkaErr(kerr.UnsupportedSaslMechanism, "upsert SCRAM credential of %q: unknown SCRAM mechanism %d", u.User, u.Mechanism))
		case cr.Iterations < sasl.MinIterations:
			fail(u.User, kafkaErr(kerr.InvalidRequest, "upsert %s credential of %q: too few iterations (%d < %d)", u.Mechanism, u.User, cr.Iterations, sasl.MinIterations))
		case cr.Iterations > sasl.MaxIterations:
			fail(u.User, kafkaErr(kerr.InvalidRequest, "upsert %s credential of %q: too many iterations (%d > %d)", u.Mechanism, u.User, cr.Iterations, sasl.MaxIterations))
		case len(cr.Salt) == 0 || len(cr.StoredKey) == 0 || len(cr.ServerKey) == 0:
			fail(u.User, kafkaErr(kerr.UnacceptableCredential, "upsert %s credential of %q: empty salt or salted password", u.Mechanism, u.User))
		}
	}
	var next map[string]map[sasl.Mechanism]sasl.Credential
	own := func(user string) map[sasl.Mechanism]sasl.Credential {
		if next == nil {
			next = make(map[string]map[sasl.Mechanism]sasl.Credential, len(img.Scram)+1)
			for k, v := range img.Scram {
				next[k] = v
			}
		}
		m := make(map[sasl.Mechanism]sasl.Credential, len(next[user])+1)
		for k, v := range next[user] {
			m[k] = v
		}
		next[user] = m
		return m
	}
	for _, d := range c.Deletions {
		if errs[d.User] == nil {
			m := own(d.User)
			delete(m, d.Mechanism)
			if len(m) == 0 {
				delete(next, d.User)
			}
		}
	}
	for _, u := range c.Upsertions {
		if errs[u.User] == nil {
			own(u.User)[u.Mechanism] = cloneCredential(u.Credential)
		}
	}
	if next != nil {
		t.img.Scram = next
		t.changed = true
	}
	out := make([]UserResult, 0, len(users))
	for _, u := range users {
		out = append(out, UserResult{User: u, Err: errs[u]})
	}
	return out, nil
}

func cloneCredential(c sasl.Credential) sasl.Credential {
	c.Salt = slices.Clone(c.Salt)
	c.StoredKey = slices.Clone(c.StoredKey)
	c.ServerKey = slices.Clone(c.ServerKey)
	return c
}

func (c CreateACLs) apply(t *txn, _ uint64) (any, error) {
	cur := t.view().ACLs
	have := make(map[acl.Binding]bool, len(cur))
	for _, b := range cur {
		have[b] = true
	}
	var next []acl.Binding
	out := make([]error, len(c.Bindings))
	for i, b := range c.Bindings {
		if err := b.Validate(); err != nil {
			out[i] = fmt.Errorf("create acl %s: %w", b, err)
			continue
		}
		if have[b] {
			continue
		}
		if next == nil {
			next = slices.Clone(cur)
		}
		next = append(next, b)
		have[b] = true
	}
	if next != nil {
		t.img.ACLs = next
		t.changed = true
	}
	return out, nil
}

func (c DeleteACLs) apply(t *txn, _ uint64) (any, error) {
	cur := t.view().ACLs
	deleted := make([]bool, len(cur))
	out := make([]DeleteACLsResult, len(c.Filters))
	changed := false
	for i, f := range c.Filters {
		if err := f.Validate(); err != nil {
			out[i].Err = fmt.Errorf("delete acls %s: %w", f, err)
			continue
		}
		for j, b := range cur {
			if f.Matches(b) {
				deleted[j] = true
				out[i].Deleted = append(out[i].Deleted, b)
				changed = true
			}
		}
	}
	if changed {
		next := make([]acl.Binding, 0, len(cur))
		for j, b := range cur {
			if !deleted[j] {
				next = append(next, b)
			}
		}
		t.img.ACLs = next
		t.changed = true
	}
	return out, nil
}

// Credential returns a user's SCRAM credential for a mechanism; *Image
// is a sasl.Credentials. The result shares the image's bytes and must not
// be modified.
func (img *Image) Credential(m sasl.Mechanism, user string) (sasl.Credential, bool) {
	c, ok := img.Scram[user][m]
	return c, ok
}

// ScramUsers returns every user with a SCRAM credential, sorted.
func (img *Image) ScramUsers() []string {
	out := make([]string, 0, len(img.Scram))
	for u := range img.Scram {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// ScramInfo is one credential as DescribeUserScramCredentials shows it.
type ScramInfo struct {
	Mechanism  sasl.Mechanism
	Iterations int32
}

// UserScramDescription is one user's DescribeUserScramCredentials result:
// Credentials sorted by mechanism, or Err (RESOURCE_NOT_FOUND,
// DUPLICATE_RESOURCE).
type UserScramDescription struct {
	User        string
	Credentials []ScramInfo
	Err         error
}

// DescribeScram answers DescribeUserScramCredentials from the image:
// every user with a credential when users is empty (Kafka: a null or
// empty list), else each user named, in order; a user named twice is
// DUPLICATE_RESOURCE (reported once), one without credentials
// RESOURCE_NOT_FOUND.
func (img *Image) DescribeScram(users []string) []UserScramDescription {
	describe := func(u string) UserScramDescription {
		d := UserScramDescription{User: u}
		for _, m := range sasl.ScramMechanisms {
			if c, ok := img.Scram[u][m]; ok {
				d.Credentials = append(d.Credentials, ScramInfo{Mechanism: m, Iterations: c.Iterations})
			}
		}
		if len(d.Credentials) == 0 {
			d.Err = kafkaErr(kerr.ResourceNotFound, "describe SCRAM credentials of %q: attempt to describe a user credential that does not exist", u)
		}
		return d
	}
	if len(users) == 0 {
		users = img.ScramUsers()
	}
	count := map[string]int{}
	for _, u := range users {
		count[u]++
	}
	var out []UserScramDescription
	reported := map[string]bool{}
	for _, u := range users {
		if reported[u] {
			continue
		}
		reported[u] = true
		if count[u] > 1 {
			out = append(out, UserScramDescription{User: u, Err: kafkaErr(kerr.DuplicateResource,
				"describe SCRAM credentials of %q: cannot describe SCRAM credentials for the same user twice in a single request", u)})
			continue
		}
		out = append(out, describe(u))
	}
	return out
}
