package node

import (
	"errors"
	"fmt"

	"github.com/dustin/go-humanize"

	"github.com/caisse-coop/caisse/node/api"
)

// DefaultMinFreeDisk is the free space below which a node stops writing,
// by default: room for badger to compact and for the operator to act on a
// small VPS.
const DefaultMinFreeDisk = 256 << 20

// checkDisk refuses a write when the data directory's file system has
// less than Config.MinFreeDisk free, so that the node stops with a clear
// error before the disk is full rather than fail in the middle of a
// commit. A probe that cannot tell (another OS) does not block writes.
func (n *Node) checkDisk() error {
	floor := n.cfg.MinFreeDisk
	if floor == 0 {
		return nil
	}
	free, err := n.cfg.FreeDisk(n.cfg.DataDir)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("node: free space of %s: %w", n.cfg.DataDir, err)
	}
	if free < floor {
		if !n.diskLow.Swap(true) {
			n.log.Warn("disk nearly full: writes refused and replication paused until space returns",
				"free", humanize.IBytes(free), "min_free_disk", humanize.IBytes(floor), "dir", n.cfg.DataDir)
		}
		return fmt.Errorf("node: disk nearly full: %s free in %s, the node keeps %s free (min-free-disk) and records nothing until there is room: %w",
			humanize.IBytes(free), n.cfg.DataDir, humanize.IBytes(floor), api.ErrDiskFull)
	}
	if n.diskLow.Swap(false) {
		n.log.Info("disk space is back: writing and replicating again", "free", humanize.IBytes(free), "dir", n.cfg.DataDir)
	}
	return nil
}
