package policy

import (
	"time"
)

// GiB is 2^30 bytes, the unit MSK sizes volumes in.
const GiB = int64(1) << 30

// Defaults. MSK's storage cooldown is six hours because an EBS volume can be
// modified once every six hours; a local volume is a limit on a directory that
// changes at once, so the local default only needs to outlast a few metric
// scrapes (the next decision must see the new size) and stop a runaway
// producer from growing the volume on every evaluation.
const (
	DefaultStorageCooldown  = 5 * time.Minute
	DefaultStepBytes        = 10 * GiB // MSK: max(10 GiB, 10 %)
	DefaultStepPercent      = 10
	DefaultWindow           = 5 * time.Minute
	DefaultTolerance        = 10                // percent, HPA's --horizontal-pod-autoscaler-tolerance 0.1
	DefaultScaleInBelow     = 50                // percent of a target every broker must stay under to scale in
	DefaultStabilization    = 300 * time.Second // HPA's scale-down stabilization window
	DefaultScaleOutCooldown = 10 * time.Minute
	DefaultScaleInCooldown  = 30 * time.Minute
	DefaultScaleStep        = 1
)

// Policy is a validated policy file. Either section may be nil (not managed).
type Policy struct {
	Name    string // the file it came from
	Storage *StoragePolicy
	Brokers *BrokerPolicy
}

// StoragePolicy is MSK's storage target tracking: grow a broker's volume when
// its utilization crosses the target, never shrink it.
type StoragePolicy struct {
	TargetUtilization float64 // percent of provisioned bytes, 10–80
	MaxSize           int64   // bytes per broker
	Step              Step
	Cooldown          time.Duration
	PerBroker         bool // grow only the brokers above target (MSK grows all together)
}

// Step is how much one grow adds: the larger of Bytes and Percent of the
// current size.
type Step struct {
	Bytes   int64
	Percent float64
}

// Of returns the step for a volume of size bytes.
func (s Step) Of(size int64) int64 {
	return max(s.Bytes, int64(float64(size)*s.Percent/100))
}

// BrokerPolicy scales the broker count on sustained load.
type BrokerPolicy struct {
	Min, Max         int
	Targets          Targets
	Window           time.Duration // load above target this long to scale out
	Tolerance        float64       // percent around a target that is ignored
	ScaleInBelow     float64       // percent of each target every broker stays under to scale in
	ScaleOutStep     int
	ScaleInStep      int
	ScaleOutCooldown time.Duration
	ScaleInCooldown  time.Duration
	Stabilization    time.Duration // scale-in takes the highest recommendation seen in it
	Location         *time.Location
	Schedules        []Schedule
}

// Targets are per-broker targets; zero means not used.
type Targets struct {
	CPUPercent       float64
	NetworkIn        float64 // bytes/s
	NetworkOut       float64 // bytes/s
	Partitions       float64 // partition replicas per broker
	Leaders          float64
	StorageAtMaximum bool // count storage once volumes are at the storage maximum
}

// Schedule raises the minimum broker count during a weekly window.
type Schedule struct {
	Name       string
	Days       []time.Weekday
	Start, End int // minutes after midnight; End <= Start runs past midnight
	MinBrokers int
}

// Active reports whether t (in the policy's location) falls in the window.
func (s Schedule) Active(t time.Time) bool {
	m := minuteOfWeek(t)
	for _, d := range s.Days {
		start := int(d)*minutesPerDay + s.Start
		length := s.End - s.Start
		if length <= 0 {
			length += minutesPerDay
		}
		if (m-start+minutesPerWeek)%minutesPerWeek < length {
			return true
		}
	}
	return false
}

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

func minuteOfWeek(t time.Time) int {
	return int(t.Weekday())*minutesPerDay + t.Hour()*60 + t.Minute()
}

// minutes returns the window's minutes of the week.
func (s Schedule) minutes() map[int]bool {
	out := map[int]bool{}
	length := s.End - s.Start
	if length <= 0 {
		length += minutesPerDay
	}
	for _, d := range s.Days {
		start := int(d)*minutesPerDay + s.Start
		for i := range length {
			out[(start+i)%minutesPerWeek] = true
		}
	}
	return out
}

// MinAt is the minimum broker count at t: Min raised by every active schedule.
func (b *BrokerPolicy) MinAt(t time.Time) (int, string) {
	n, why := b.Min, ""
	for _, s := range b.Schedules {
		if s.MinBrokers > n && s.Active(t.In(b.Location)) {
			n, why = s.MinBrokers, s.Name
		}
	}
	return n, why
}
