package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
)

func newACLCmd(g *globals) *cobra.Command {
	tf := &topicFlags{globals: g}
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Create, list and delete ACLs",
		Long: `Manage Kafka ACLs through CreateAcls, DescribeAcls and DeleteAcls. An ACL is
written on one line:

  PERMISSION PRINCIPAL HOST OPERATION TYPE:PATTERN:NAME
  ALLOW User:alice * READ TOPIC:PREFIXED:orders-

PERMISSION is ALLOW or DENY; HOST a client address or *; OPERATION one of
READ WRITE CREATE DELETE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS
ALTER_CONFIGS IDEMPOTENT_WRITE ALL …; TYPE one of TOPIC GROUP CLUSTER
TRANSACTIONAL_ID DELEGATION_TOKEN USER; PATTERN LITERAL or PREFIXED (the
CLUSTER's name is kafka-cluster). Filters for list and delete take the
same form, with ANY for any permission, operation, type or pattern, MATCH
for every pattern that applies to a name, and null for any principal, host
or name. docs/SECURITY.md describes the rules.`,
		Example: `  weir acl create 'ALLOW User:alice * READ TOPIC:LITERAL:orders' 'ALLOW User:alice * READ GROUP:PREFIXED:alice-'
  weir acl list
  weir acl list 'ANY null null ANY TOPIC:MATCH:orders'
  weir acl delete 'ANY User:alice null ANY ANY:ANY:null'`,
	}
	cmd.PersistentFlags().DurationVar(&tf.timeout, "timeout", 30*time.Second, "give up on the cluster after this long (0: never)")
	cmd.AddCommand(newACLCreateCmd(tf), newACLListCmd(tf), newACLDeleteCmd(tf))
	return cmd
}

// withKafka runs fn with a client and the command's timeout.
func (tf *topicFlags) withKafka(ctx context.Context, fn func(context.Context, *kgo.Client) error) error {
	cl, err := tf.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := withTimeout(ctx, tf.timeout)
	defer cancel()
	return fn(ctx, cl)
}

func newACLCreateCmd(tf *topicFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "create ACL...",
		Short: "Create ACLs (one quoted argument each)",
		Long: `Create ACLs, each written PERMISSION PRINCIPAL HOST OPERATION TYPE:PATTERN:NAME
(see weir acl --help). Creating an ACL that exists already succeeds.`,
		Example: "  weir acl create 'ALLOW User:alice * READ TOPIC:LITERAL:orders'\n  weir acl create 'DENY User:* 10.0.0.9 ALL TOPIC:LITERAL:*'",
		Args:    needArgs("ACL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := kmsg.NewPtrCreateACLsRequest()
			for _, a := range args {
				b, err := acl.ParseBinding(a)
				if err != nil {
					return err
				}
				if err := b.Validate(); err != nil {
					return fmt.Errorf("%s: %w", a, err)
				}
				req.Creations = append(req.Creations, acl.Creation(b))
			}
			return tf.withKafka(cmd.Context(), func(ctx context.Context, cl *kgo.Client) error {
				resp, err := req.RequestWith(ctx, cl)
				if err != nil {
					return fmt.Errorf("creating ACLs: %w", err)
				}
				var errs []error
				for i, r := range resp.Results {
					if i >= len(args) {
						break
					}
					if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", args[i], withMessage(err, deref(r.ErrorMessage))))
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "created %s\n", args[i])
				}
				return errors.Join(errs...)
			})
		},
	}
}

func filterArg(args []string) (acl.BindingFilter, error) {
	if len(args) == 0 {
		return acl.AnyFilter, nil
	}
	f, err := acl.ParseFilter(args[0])
	if err != nil {
		return f, err
	}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("%s: %w", args[0], err)
	}
	return f, nil
}

func newACLListCmd(tf *topicFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list [FILTER]",
		Short: "List the ACLs a filter matches (all by default)",
		Long: `List ACLs. A filter is written like an ACL, with ANY for any permission,
operation, type or pattern, MATCH for every pattern that applies to a name,
and null for any principal, host or name.`,
		Example: "  weir acl list\n  weir acl list 'ANY User:alice null ANY ANY:ANY:null'\n  weir acl list 'ANY null null ANY TOPIC:MATCH:orders'",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := filterArg(args)
			if err != nil {
				return err
			}
			req := acl.DescribeRequest(f)
			return tf.withKafka(cmd.Context(), func(ctx context.Context, cl *kgo.Client) error {
				resp, err := req.RequestWith(ctx, cl)
				if err != nil {
					return fmt.Errorf("describing ACLs: %w", err)
				}
				if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
					return fmt.Errorf("describing ACLs: %w", withMessage(err, deref(resp.ErrorMessage)))
				}
				var lines []string
				for _, b := range acl.Described(resp.Resources) {
					lines = append(lines, b.String())
				}
				printLines(cmd.OutOrStdout(), lines)
				return nil
			})
		},
	}
}

func newACLDeleteCmd(tf *topicFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete FILTER...",
		Short: "Delete the ACLs the filters match",
		Long: `Delete every ACL each filter matches and print what was deleted; filters are
written as for weir acl list.`,
		Example: "  weir acl delete 'ALLOW User:alice * READ TOPIC:LITERAL:orders'\n  weir acl delete 'ANY User:alice null ANY ANY:ANY:null'",
		Args:    needArgs("FILTER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := kmsg.NewPtrDeleteACLsRequest()
			for _, a := range args {
				f, err := filterArg([]string{a})
				if err != nil {
					return err
				}
				req.Filters = append(req.Filters, acl.DeleteFilter(f))
			}
			return tf.withKafka(cmd.Context(), func(ctx context.Context, cl *kgo.Client) error {
				resp, err := req.RequestWith(ctx, cl)
				if err != nil {
					return fmt.Errorf("deleting ACLs: %w", err)
				}
				var errs []error
				var lines []string
				for i, r := range resp.Results {
					if err := kerr.ErrorForCode(r.ErrorCode); err != nil && i < len(args) {
						errs = append(errs, fmt.Errorf("%s: %w", args[i], withMessage(err, deref(r.ErrorMessage))))
						continue
					}
					for _, m := range r.MatchingACLs {
						lines = append(lines, "deleted "+acl.Deleted(m).String())
					}
				}
				printLines(cmd.OutOrStdout(), lines)
				return errors.Join(errs...)
			})
		},
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// printLines prints lines sorted, once each.
func printLines(w io.Writer, lines []string) {
	seen := map[string]bool{}
	slices.Sort(lines)
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			fmt.Fprintln(w, strings.TrimSpace(l))
		}
	}
}
