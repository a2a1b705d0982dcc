// Command gen writes a CloudWatch dashboard body and alarms (package
// cloudwatch) for a named cluster:
//
//	go run ./dashboards/cloudwatch/gen -cluster weir-data -brokers 1,2,3 \
//	    -group readers:orders -region eu-west-1 -namespace Weir/Kafka -out DIR
//
// writes DIR/<cluster>-dashboard.json (for `aws cloudwatch put-dashboard
// --dashboard-body file://...`) and DIR/<cluster>-alarms.json (a list of
// PutMetricAlarm inputs). With -example it rewrites the checked-in examples.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/weirhq/weir/dashboards/cloudwatch"
)

func main() {
	var (
		t        cloudwatch.Target
		brokers  = flag.String("brokers", "1,2,3", "broker ids, comma separated (per-broker alarms)")
		groups   = flag.String("group", "", "group:topic pairs to alarm on lag, comma separated")
		out      = flag.String("out", ".", "output directory")
		example  = flag.Bool("example", false, "rewrite dashboards/cloudwatch/example-*.json")
		exitWith = func(err error) { fmt.Fprintln(os.Stderr, "gen:", err); os.Exit(1) }
	)
	flag.StringVar(&t.Cluster, "cluster", "weir-data", "the agents' cluster_name")
	flag.StringVar(&t.Region, "region", "us-east-1", "the dashboard's region")
	flag.StringVar(&t.Namespace, "namespace", "AWS/Kafka", "the agents' cloudwatch.namespace")
	flag.Parse()
	if *example {
		if err := cloudwatch.WriteExamples("dashboards/cloudwatch"); err != nil {
			exitWith(err)
		}
		return
	}
	for _, b := range strings.Split(*brokers, ",") {
		id, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil {
			exitWith(fmt.Errorf("-brokers: %w", err))
		}
		t.Brokers = append(t.Brokers, id)
	}
	for _, g := range strings.Split(*groups, ",") {
		if g == "" {
			continue
		}
		group, topic, ok := strings.Cut(g, ":")
		if !ok {
			exitWith(fmt.Errorf("-group %q: want group:topic", g))
		}
		t.GroupLags = append(t.GroupLags, cloudwatch.GroupTopic{Group: group, Topic: topic})
	}
	if err := cloudwatch.Write(*out, t); err != nil {
		exitWith(err)
	}
	fmt.Println(filepath.Join(*out, t.Cluster+"-dashboard.json"), filepath.Join(*out, t.Cluster+"-alarms.json"))
}
