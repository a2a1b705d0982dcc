package grafana

// Autoscaler is `weir autoscaler`: what it sees (storage and load against
// the policy's targets), its bounds, what it did and why it holds.
//
// One autoscaler runs per cluster; its per-broker storage series carry a
// broker label of its own (its target has only the cluster label).
func Autoscaler() *Dashboard {
	return New("weir-autoscaler", "Weir / Autoscaler",
		"The autoscaler (weir autoscaler): storage against the target and max_size, the broker count against its bounds, each load against its target, actions and operations with their outcome, and the holds with their reasons (docs/AUTOSCALER.md).").
		Var("broker", "Broker", `label_values(weir_autoscaler_storage_used_bytes{cluster=~"$cluster"}, broker)`,
			"The brokers the autoscaler reads storage for (its own broker label).").
		Row("Policy and health").
		Add(autoscalerHealth()...).
		Row("Storage").
		Add(autoscalerStorage()...).
		Row("Broker count and load").
		Add(autoscalerLoad()...).
		Row("Actions and holds").
		Add(autoscalerActions()...).
		Dashboard()
}

func autoscalerHealth() []*PanelBuilder {
	return []*PanelBuilder{
		Stat("Autoscaler up", "Prometheus reaches the autoscaler's /metrics (job weir-autoscaler; alert WeirAutoscalerDown).").
			Query(`max(up{job="weir-autoscaler",`+inCluster+`})`, "").Unit(UnitNone).Thresholds(Red, At(1, Green)),
		Stat("Policy loaded", "1 while the policy file on disk is the one in force; 0 when it is invalid and the last good policy decides (alert WeirAutoscalerPolicyInvalid; the autoscaler's log names the file, line and rule).").
			Query(`min(weir_autoscaler_policy_loaded{`+inCluster+`})`, "").Unit(UnitNone).Thresholds(Red, At(1, Green)),
		Stat("Brokers", "Brokers in the cluster as the provisioner describes it.").
			Query(`max(weir_autoscaler_brokers{`+inCluster+`})`, "").Unit(UnitNone),
		Stat("Storage target", "The storage policy's target_utilization: at or above it a broker's storage grows (0: no storage policy).").
			Query(`max(weir_autoscaler_storage_target_utilization_percent{`+inCluster+`})`, "").Unit(UnitPercent),
		Stat("Storage maximum", "The storage policy's max_size per broker: storage never grows past it (alert WeirStorageAtMaximum).").
			Query(`max(weir_autoscaler_storage_max_bytes{`+inCluster+`})`, "").Unit(UnitBytes),
		Stat("Holds now", "Changes the autoscaler would make but holds, now (the table below says which and why).").
			Query(`count(weir_autoscaler_blocked{`+inCluster+`} == 1) or vector(0)`, "").Unit(UnitNone).
			Thresholds(Green, At(1, Yellow)),
	}
}

func autoscalerStorage() []*PanelBuilder {
	return []*PanelBuilder{
		TimeSeries("Storage used, provisioned and maximum", "Each broker's used bytes (its agent's DescribeLogDirs) and provisioned storage as the autoscaler last read them, and the policy's max_size: provisioned steps up by the grows and stops at the maximum.").
			Query(`weir_autoscaler_storage_used_bytes{`+onBroker+`}`, "used {{broker}}").
			Query(`weir_autoscaler_storage_provisioned_bytes{`+onBroker+`}`, "provisioned {{broker}}").
			Query(`max(weir_autoscaler_storage_max_bytes{`+inCluster+`})`, "max_size").
			Unit(UnitBytes).Min(0).Stepped(),
		TimeSeries("Storage utilization against the target", "Used over provisioned storage per broker, and the policy's target: a broker at or above the target grows at the next evaluation unless held (90 %: alert WeirBrokerStorageNearlyFull, from the agents).").
			Query(`weir_autoscaler_storage_utilization_percent{`+onBroker+`}`, "{{broker}}").
			Query(`max(weir_autoscaler_storage_target_utilization_percent{`+inCluster+`})`, "target").
			Unit(UnitPercent).Min(0).Max(100).Thresholds(Green, At(90, Red)),
	}
}

func autoscalerLoad() []*PanelBuilder {
	load := func(resources string) string {
		return `weir_autoscaler_load{` + inCluster + `,resource=~"` + resources + `"}`
	}
	target := func(resources string) string {
		return `weir_autoscaler_load_target{` + inCluster + `,resource=~"` + resources + `"}`
	}
	return []*PanelBuilder{
		TimeSeries("Brokers against the minimum and maximum", "The broker count and the policy's bounds: min_brokers (raised while a schedule is open) and max_brokers (alert WeirBrokerCountAtMaximum when the load asks for more).").
			Query(`max(weir_autoscaler_brokers{`+inCluster+`})`, "brokers").
			Query(`max(weir_autoscaler_brokers_min{`+inCluster+`})`, "min").
			Query(`max(weir_autoscaler_brokers_max{`+inCluster+`})`, "max").
			Unit(UnitNone).Min(0).Stepped(),
		TimeSeries("CPU per broker against its target", "Average CPU percent per broker, as the autoscaler computes its recommendation, and the policy's cpu_percent target (none when unset).").
			Query(load("cpu_percent"), "load").
			Query(target("cpu_percent"), "target").
			Unit(UnitPercent).Min(0),
		TimeSeries("Network per broker against its targets", "Average bytes in and out per broker per second, and the policy's network_in_per_second and network_out_per_second targets.").
			Query(load("network_in_per_second|network_out_per_second"), "{{resource}}").
			Query(target("network_in_per_second|network_out_per_second"), "{{resource}} target").
			Unit(UnitBytesPerSec).Min(0),
		TimeSeries("Partitions and leaders per broker against their targets", "Average partition replicas and leaders per broker, and the policy's partitions_per_broker and leaders_per_broker targets.").
			Query(load("partitions_per_broker|leaders_per_broker"), "{{resource}}").
			Query(target("partitions_per_broker|leaders_per_broker"), "{{resource}} target").
			Unit(UnitNone).Min(0),
	}
}

func autoscalerActions() []*PanelBuilder {
	return []*PanelBuilder{
		TimeSeries("Actions", "Actions handed to the provisioner since the autoscaler started, by kind (storage grows, broker count changes): each step is one action.").
			Query(`sum by (kind) (weir_autoscaler_actions_total{`+inCluster+`})`, "{{kind}}").
			Unit(UnitNone).Min(0).Stepped(),
		TimeSeries("Operations by outcome", "Operations the autoscaler started since it started, by kind and how they ended: UPDATE_COMPLETE, UPDATE_FAILED, or REFUSED by the provisioner (alert WeirAutoscalerOperationFailed).").
			Query(`sum by (kind, state) (weir_autoscaler_operations_total{`+inCluster+`})`, "{{kind}} {{state}}").
			Unit(UnitNone).Min(0).Stepped(),
		Stat("Since the last action", "Time since the last action of each kind (the cooldowns count from it).").
			Query(`time() - max by (kind) (weir_autoscaler_last_action_timestamp_seconds{`+inCluster+`})`, "{{kind}}").
			Unit(UnitSeconds).Width(6).Height(8),
		TimeSeries("Evaluations and scrape errors", "Decisions per minute, and evaluations per minute in which some agent could not be read (alert WeirAutoscalerBlind).").
			Query(`sum(rate(weir_autoscaler_evaluations_total{`+inCluster+`}`+window+`)) * 60`, "evaluations").
			Query(`sum(rate(weir_autoscaler_scrape_errors_total{`+inCluster+`}`+window+`)) * 60`, "scrape errors").
			Unit(UnitPerMin).Min(0).Width(18),
		StateTimeline("Holds over time", "When each change was held, by kind and reason (NOT_ACTIVE, OPERATION_IN_PROGRESS, COOLDOWN, MAXIMUM_REACHED, MINIMUM_REACHED, WITHIN_TOLERANCE, NOT_SUSTAINED, STABILIZING, INSUFFICIENT_DATA; docs/AUTOSCALER.md).").
			Query(`max by (kind, reason) (weir_autoscaler_blocked{`+inCluster+`})`, "{{kind}} {{reason}}").
			Unit(UnitNone).Thresholds(Green, At(1, Yellow)),
		Table("Holds now", "The changes held now, by kind and reason; `weir autoscaler plan` prints each with its figures.").
			Query(`max by (kind, reason) (weir_autoscaler_blocked{`+inCluster+`} == 1)`, "").
			Instant().Unit(UnitNone).Width(24),
	}
}
