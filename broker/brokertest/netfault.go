package brokertest

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Network faults on a Net, with Linux's own tools: nftables rules in each
// host's namespace (table inet weirfault, hooked on input and output) drop
// the packets a fault cuts, and tc netem, where the kernel has it, delays
// and loses packets on a host's link. Rules drop rather than reject, as a
// cut cable or a dead switch port would: a connection's peer learns
// nothing and waits for its own timeouts. Heal removes every fault.
//
// Each call replaces the faults in force on the hosts it names, and
// applies them to each namespace in one nft transaction.

// RequireNetFaults skips t, saying why, when the fault tests cannot run
// here: no network namespaces (not root, no iproute2) or no nft, the tool
// the faults need (`make deps` installs Debian's nftables). Under CI
// (CI=true) it fails t instead: CI runs as root, where they must run. Call
// it before starting anything.
func RequireNetFaults(t testing.TB) {
	t.Helper()
	if reason := netnsUnavailable(); reason != "" {
		NetnsUnavailable(t, reason)
	}
	if _, err := exec.LookPath("nft"); err != nil {
		NetnsUnavailable(t, "nft (nftables) is not on PATH: run make deps")
	}
}

// Isolate cuts each host from everything: the other hosts and the root
// namespace (the test's clients).
func (n *Net) Isolate(hosts ...*Host) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range hosts {
		n.faults[h] = append(n.faults[h],
			fmt.Sprintf("add rule inet weirfault in iifname %q drop", h.Iface),
			fmt.Sprintf("add rule inet weirfault out oifname %q drop", h.Iface))
	}
	return n.apply(hosts...)
}

// Partition splits the hosts into groups that cannot reach each other;
// every host still reaches the root namespace (clients see all sides, as
// in Jepsen's partitions). A host in no group is unaffected.
func (n *Net) Partition(groups ...[]*Host) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var touched []*Host
	for gi, g := range groups {
		for _, h := range g {
			touched = append(touched, h)
			for gj, other := range groups {
				if gi == gj {
					continue
				}
				for _, o := range other {
					n.faults[h] = append(n.faults[h], cutRules(o.IP)...)
				}
			}
		}
	}
	return n.apply(touched...)
}

// DropOneWay drops every packet from one host to another; the other way
// works. (TCP cannot open a connection across it in either direction,
// since handshakes need both ways; established connections see their
// data or their acknowledgements vanish.)
func (n *Net) DropOneWay(from, to *Host) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults[from] = append(n.faults[from], fmt.Sprintf("add rule inet weirfault out ip daddr %s drop", to.IP))
	return n.apply(from)
}

// Degrade makes h's link slow and lossy: delay ± jitter and loss percent
// each way, with tc netem on both ends of its veth pair. Kernels built
// without sch_netem (it is a module some minimal kernels leave out) get
// the loss alone, as nftables drops with that probability, and no delay;
// the returned description says which was applied.
func (n *Net) Degrade(h *Host, delay, jitter time.Duration, lossPercent int) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	netem := []string{"netem", "delay", ms(delay), ms(jitter), "loss", fmt.Sprintf("%d%%", lossPercent)}
	inNS := append([]string{"ip", "netns", "exec", h.NS, "tc", "qdisc", "replace", "dev", h.Iface, "root"}, netem...)
	err := run(inNS)
	if err == nil {
		n.netem[h] = true
		if err := run(append([]string{"tc", "qdisc", "replace", "dev", h.Veth, "root"}, netem...)); err != nil {
			return "", err
		}
		return fmt.Sprintf("tc netem on %s's link: delay %v ± %v, loss %d%% each way", h.Name, delay, jitter, lossPercent), nil
	}
	if !strings.Contains(err.Error(), "qdisc kind is unknown") {
		return "", err
	}
	n.faults[h] = append(n.faults[h],
		fmt.Sprintf("add rule inet weirfault in iifname %q numgen random mod 100 < %d drop", h.Iface, lossPercent),
		fmt.Sprintf("add rule inet weirfault out oifname %q numgen random mod 100 < %d drop", h.Iface, lossPercent))
	if err := n.apply(h); err != nil {
		return "", err
	}
	return fmt.Sprintf("this kernel has no netem qdisc (tc: %q): %s's link loses %d%% each way by nftables, with no added delay",
		"Specified qdisc kind is unknown", h.Name, lossPercent), nil
}

// Heal removes every fault from every host.
func (n *Net) Heal() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var hosts []*Host
	for h := range n.faults {
		hosts = append(hosts, h)
	}
	clear(n.faults)
	if err := n.apply(hosts...); err != nil {
		return err
	}
	for h := range n.netem {
		if err := run([]string{"ip", "netns", "exec", h.NS, "tc", "qdisc", "del", "dev", h.Iface, "root"}); err != nil {
			return err
		}
		if err := run([]string{"tc", "qdisc", "del", "dev", h.Veth, "root"}); err != nil {
			return err
		}
	}
	clear(n.netem)
	return nil
}

// cutRules drop every packet to and from ip.
func cutRules(ip string) []string {
	return []string{
		fmt.Sprintf("add rule inet weirfault in ip saddr %s drop", ip),
		fmt.Sprintf("add rule inet weirfault out ip daddr %s drop", ip),
	}
}

// apply replaces the weirfault table of each host with its rules, in one
// nft transaction per host; n.mu is held.
func (n *Net) apply(hosts ...*Host) error {
	seen := map[*Host]bool{}
	for _, h := range hosts {
		if seen[h] {
			continue
		}
		seen[h] = true
		var sb strings.Builder
		sb.WriteString("table inet weirfault\ndelete table inet weirfault\n")
		if rules := n.faults[h]; len(rules) > 0 {
			sb.WriteString("table inet weirfault {\n")
			sb.WriteString("\tchain in { type filter hook input priority 0; policy accept; }\n")
			sb.WriteString("\tchain out { type filter hook output priority 0; policy accept; }\n}\n")
			for _, r := range rules {
				sb.WriteString(r + "\n")
			}
		}
		cmd := exec.Command("ip", "netns", "exec", h.NS, "nft", "-f", "-")
		cmd.Stdin = strings.NewReader(sb.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("nft in %s: %v: %s\n%s", h.NS, err, strings.TrimSpace(string(out)), sb.String())
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }
