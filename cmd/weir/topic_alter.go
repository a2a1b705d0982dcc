package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func newTopicAlterConfigCmd(tf *topicFlags) *cobra.Command {
	var (
		sets, deletes []string
		validateOnly  bool
	)
	cmd := &cobra.Command{
		Use:   "alter-config NAME... (--set KEY=VALUE | --delete KEY)...",
		Short: "Set or remove topic configs (IncrementalAlterConfigs)",
		Long: `Set or remove configs of topics with IncrementalAlterConfigs: only the named
keys change; a deleted key falls back to the cluster's default.`,
		Example: `  weir topic alter-config orders --set retention.ms=3600000
  weir topic alter-config orders --set cleanup.policy=compact --delete retention.bytes`,
		Args: needArgs("topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			alters, err := configAlterations(sets, deletes)
			if err != nil {
				return fmt.Errorf("altering configs: %w", err)
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				return alterTopicConfigs(ctx, adm, cmd.OutOrStdout(), args, alters, validateOnly)
			})
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "config key=value to set (repeatable)")
	cmd.Flags().StringArrayVar(&deletes, "delete", nil, "config key to remove, back to its default (repeatable)")
	cmd.Flags().BoolVar(&validateOnly, "validate-only", false, "only ask the cluster whether the change is valid")
	return cmd
}

// configAlterations turns --set and --delete into incremental alterations.
func configAlterations(sets, deletes []string) ([]kadm.AlterConfig, error) {
	kv, err := parseKV(sets, "--set")
	if err != nil {
		return nil, err
	}
	if len(kv) == 0 && len(deletes) == 0 {
		return nil, errors.New("nothing to change: give --set key=value or --delete key")
	}
	var alters []kadm.AlterConfig
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(kv[k])})
	}
	for _, k := range deletes {
		if _, both := kv[k]; both {
			return nil, fmt.Errorf("%s is both set and deleted", k)
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return alters, nil
}

func alterTopicConfigs(ctx context.Context, adm *kadm.Client, out io.Writer, names []string, alters []kadm.AlterConfig, validateOnly bool) error {
	alter, verb := adm.AlterTopicConfigs, "altered"
	if validateOnly {
		alter, verb = adm.ValidateAlterTopicConfigs, "validated"
	}
	resps, err := alter(ctx, alters, names...)
	if err != nil {
		return fmt.Errorf("altering topic configs: %w", err)
	}
	var errs []error
	for _, name := range names {
		resp, err := resps.On(name, nil)
		if err == nil {
			err = withMessageIf(resp.Err, resp.ErrMessage)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("altering configs of topic %s: %w", name, err))
			continue
		}
		fmt.Fprintf(out, "%s configs of topic %s\n", verb, name)
	}
	return errors.Join(errs...)
}
