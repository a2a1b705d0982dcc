package server

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/weirhq/weir/broker/config"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// never is how broker/config represents Kafka's Long.MAX_VALUE "never"
// for *.ms settings: the largest Duration.
const never = time.Duration(math.MaxInt64)

// logConfig maps a topic's resolved settings onto the log's, where 0 means
// "never" for roll and flush intervals and a negative retention "forever".
func logConfig(ts config.TopicSettings) wlog.Config {
	return wlog.Config{
		SegmentBytes:       ts.SegmentBytes,
		SegmentMs:          orZero(ts.SegmentMs),
		RetentionMs:        orForever(ts.RetentionMs),
		RetentionBytes:     ts.RetentionBytes,
		IndexIntervalBytes: ts.IndexIntervalBytes,
		SegmentIndexBytes:  ts.SegmentIndexBytes,
		FlushMessages:      ts.FlushMessages,
		FlushMs:            orZero(ts.FlushMs),
		FileDeleteDelay:    ts.FileDeleteDelayMs,
	}
}

func orZero(d time.Duration) time.Duration {
	if d == never || d < 0 {
		return 0
	}
	return d
}

func orForever(d time.Duration) time.Duration {
	if d == never {
		return -1
	}
	return d
}

// checkMetaProperties writes meta.properties into a new log dir, or checks
// that an existing one belongs to this cluster and node, as Kafka does.
func checkMetaProperties(dir, clusterID string, nodeID int32, now time.Time) error {
	path := filepath.Join(dir, "meta.properties")
	props, err := readProperties(path)
	if errors.Is(err, os.ErrNotExist) {
		content := fmt.Sprintf("#\n#%s\nversion=1\ncluster.id=%s\nnode.id=%d\ndirectory.id=%s\n",
			now.UTC().Format(time.RFC1123), clusterID, nodeID, quorum.NewTopicID())
		return atomicfile.Write(vfs.Default, path, []byte(content))
	}
	if err != nil {
		return fmt.Errorf("log.dirs: reading %s: %w", path, err)
	}
	if got := props["cluster.id"]; got != clusterID {
		return fmt.Errorf("log.dirs: %s belongs to cluster %q but this broker's cluster is %q: refusing to start (point log.dirs at this cluster's data, or move that directory away)", dir, got, clusterID)
	}
	if got := props["node.id"]; got != strconv.Itoa(int(nodeID)) {
		return fmt.Errorf("node.id: %d, but log dir %s was written by node.id %s: refusing to start", nodeID, dir, got)
	}
	return nil
}

func readProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, sc.Err()
}

// setMaxOpenFiles applies weir.log.max.open.files (0: keep the default, 75 %
// of the soft RLIMIT_NOFILE) to the process's segment file cache, which
// every log of this broker shares. A cap at or above the limit itself
// would let segment files take every descriptor, so the broker refuses it.
func setMaxOpenFiles(n int, logger *slog.Logger) error {
	if n == 0 {
		return nil
	}
	if limit, ok := wlog.OpenFileLimit(); ok && n >= limit {
		return fmt.Errorf("weir.log.max.open.files=%d is not below the process's open-file limit (ulimit -n) %d, which connections, index writes and checkpoints share: raise the limit or lower the key (0: 75%% of the limit, %d)",
			n, limit, wlog.DefaultMaxOpenFiles())
	}
	wlog.DefaultFileCache.SetMax(n)
	logger.Info("segment file cache capped", "weir.log.max.open.files", n)
	return nil
}
