package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func newUserCmd(g *globals) *cobra.Command {
	tf := &topicFlags{globals: g}
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Set, list and delete users' SCRAM credentials",
		Long: `Manage SASL/SCRAM users through AlterUserScramCredentials and
DescribeUserScramCredentials, as kafka-configs --alter --add-config
'SCRAM-SHA-512=[password=…]' --entity-type users does. The password is
salted here; the cluster keeps only the salted keys. Against a secure
cluster, give --command-config (a client config with a user allowed ALTER
on the cluster).`,
		Example: `  echo "$PASSWORD" | weir user set alice --password-stdin
  weir user set alice --mechanism SCRAM-SHA-256 --iterations 8192 --password-stdin < pw.txt
  weir user list
  weir user delete alice`,
	}
	cmd.PersistentFlags().DurationVar(&tf.timeout, "timeout", 30*time.Second, "give up on the cluster after this long (0: never)")
	cmd.AddCommand(newUserSetCmd(tf), newUserListCmd(tf), newUserDeleteCmd(tf))
	return cmd
}

func parseMechanisms(names []string) ([]kadm.ScramMechanism, error) {
	var out []kadm.ScramMechanism
	for _, n := range names {
		switch strings.ToUpper(n) {
		case "SCRAM-SHA-256":
			out = append(out, kadm.ScramSha256)
		case "SCRAM-SHA-512":
			out = append(out, kadm.ScramSha512)
		default:
			return nil, fmt.Errorf("--mechanism %q: want SCRAM-SHA-256 or SCRAM-SHA-512", n)
		}
	}
	return out, nil
}

func newUserSetCmd(tf *topicFlags) *cobra.Command {
	var (
		mechanisms []string
		iterations int32
		password   string
		fromStdin  bool
	)
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Create a user or change its password",
		Long: `Set a user's SCRAM credential for each --mechanism: the password is salted
here (PBKDF2, --iterations) and only the salt and salted password are sent.`,
		Example: `  echo "$PASSWORD" | weir user set alice --password-stdin
  weir user set alice --mechanism SCRAM-SHA-256,SCRAM-SHA-512 --password-stdin < pw.txt`,
		Args: oneArg("user NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			mechs, err := parseMechanisms(mechanisms)
			if err != nil {
				return err
			}
			switch {
			case fromStdin && password != "":
				return errors.New("give --password or --password-stdin, not both")
			case fromStdin:
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("reading the password: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			}
			if password == "" {
				return errors.New("no password (--password-stdin, or --password)")
			}
			var ups []kadm.UpsertSCRAM
			for _, m := range mechs {
				ups = append(ups, kadm.UpsertSCRAM{User: args[0], Mechanism: m, Iterations: iterations, Password: password})
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				return alterUsers(ctx, adm, cmd.OutOrStdout(), nil, ups, "set")
			})
		},
	}
	cmd.Flags().StringSliceVar(&mechanisms, "mechanism", []string{"SCRAM-SHA-512"}, "SCRAM-SHA-512 and/or SCRAM-SHA-256")
	cmd.Flags().Int32Var(&iterations, "iterations", 8192, "PBKDF2 iterations, 4096 to 16384")
	cmd.Flags().StringVar(&password, "password", "", "the password (visible to other local users in the process list; prefer --password-stdin)")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	return cmd
}

func alterUsers(ctx context.Context, adm *kadm.Client, out io.Writer, del []kadm.DeleteSCRAM, ups []kadm.UpsertSCRAM, verb string) error {
	res, err := adm.AlterUserSCRAMs(ctx, del, ups)
	if err != nil {
		return fmt.Errorf("altering SCRAM credentials: %w", err)
	}
	var errs []error
	for _, r := range res.Sorted() {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("user %s: %w", r.User, withMessage(r.Err, r.ErrMessage)))
			continue
		}
		fmt.Fprintf(out, "%s user %s\n", verb, r.User)
	}
	return errors.Join(errs...)
}

func newUserListCmd(tf *topicFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list [NAME...]",
		Short: "List users and their SCRAM mechanisms",
		Long: `List users with SCRAM credentials, each with its mechanisms and iteration
counts; with names, only those (a name without credentials is RESOURCE_NOT_FOUND).`,
		Example: "  weir user list\n  weir user list alice bob",
		RunE: func(cmd *cobra.Command, args []string) error {
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				res, err := adm.DescribeUserSCRAMs(ctx, args...)
				if err != nil {
					return fmt.Errorf("describing SCRAM credentials: %w", err)
				}
				w := cmd.OutOrStdout()
				var errs []error
				for _, u := range res.Sorted() {
					if u.Err != nil {
						errs = append(errs, fmt.Errorf("user %s: %w", u.User, withMessage(u.Err, u.ErrMessage)))
						continue
					}
					var creds []string
					for _, c := range u.CredInfos {
						creds = append(creds, fmt.Sprintf("%s (%d iterations)", c.Mechanism, c.Iterations))
					}
					fmt.Fprintf(w, "%s\t%s\n", u.User, strings.Join(creds, ", "))
				}
				return errors.Join(errs...)
			})
		},
	}
}

func newUserDeleteCmd(tf *topicFlags) *cobra.Command {
	var mechanisms []string
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user's SCRAM credentials (every mechanism unless --mechanism)",
		Long: `Delete a user's SCRAM credentials: every mechanism it has, or only those
given with --mechanism. The user's ACLs stay (weir acl delete removes them).`,
		Example: "  weir user delete alice\n  weir user delete alice --mechanism SCRAM-SHA-256",
		Args:    oneArg("user NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			mechs, err := parseMechanisms(mechanisms)
			if err != nil {
				return err
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				if len(mechs) == 0 {
					res, err := adm.DescribeUserSCRAMs(ctx, args[0])
					if err != nil {
						return fmt.Errorf("describing SCRAM credentials: %w", err)
					}
					u, ok := res[args[0]]
					if !ok || u.Err != nil {
						return fmt.Errorf("user %s: %w", args[0], withMessageIf(u.Err, u.ErrMessage))
					}
					for _, c := range u.CredInfos {
						mechs = append(mechs, c.Mechanism)
					}
				}
				var del []kadm.DeleteSCRAM
				for _, m := range mechs {
					del = append(del, kadm.DeleteSCRAM{User: args[0], Mechanism: m})
				}
				return alterUsers(ctx, adm, cmd.OutOrStdout(), del, nil, "deleted")
			})
		},
	}
	cmd.Flags().StringSliceVar(&mechanisms, "mechanism", nil, "only these mechanisms (SCRAM-SHA-512, SCRAM-SHA-256)")
	return cmd
}
