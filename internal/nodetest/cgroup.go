package nodetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MemoryCgroup is a memory cgroup made for a test's processes, with a hard
// limit and no swap: a process whose memory the kernel cannot reclaim
// below the limit is killed. Page cache counts toward the limit, as on a
// VPS under systemd's MemoryMax, and is reclaimed first.
type MemoryCgroup struct {
	dir string
	v2  bool
}

// NewMemoryCgroup makes the cgroup name with the given limit, under the
// memory hierarchy of cgroup v1 or v2, whichever the machine has. It needs
// the right to make cgroups (root, or a delegated subtree); the error says
// why it could not.
func NewMemoryCgroup(name string, limit int64) (*MemoryCgroup, error) {
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		cg := &MemoryCgroup{dir: filepath.Join("/sys/fs/cgroup/memory", name)}
		if err := os.Mkdir(cg.dir, 0o755); err != nil {
			return nil, fmt.Errorf("cgroup v1: %w", err)
		}
		lim := strconv.FormatInt(limit, 10)
		if err := cg.write("memory.limit_in_bytes", lim); err != nil {
			cg.Remove()
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(cg.dir, "memory.memsw.limit_in_bytes")); err == nil {
			if err := cg.write("memory.memsw.limit_in_bytes", lim); err != nil {
				cg.Remove()
				return nil, err
			}
		}
		return cg, nil
	}
	ctl, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
	if err != nil {
		return nil, fmt.Errorf("no cgroup v1 memory hierarchy, and no cgroup v2 one: %w", err)
	}
	if !bytes.Contains(ctl, []byte("memory")) {
		return nil, errors.New("cgroup v2: the memory controller is not enabled for /sys/fs/cgroup's children")
	}
	cg := &MemoryCgroup{dir: filepath.Join("/sys/fs/cgroup", name), v2: true}
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if err := cg.write("memory.max", strconv.FormatInt(limit, 10)); err != nil {
		cg.Remove()
		return nil, err
	}
	// memory.swap.max is missing only where the kernel accounts no swap.
	if err := cg.write("memory.swap.max", "0"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		cg.Remove()
		return nil, err
	}
	return cg, nil
}

func (c *MemoryCgroup) write(file, v string) error {
	if err := os.WriteFile(filepath.Join(c.dir, file), []byte(v), 0); err != nil {
		return fmt.Errorf("cgroup %s: %w", file, err)
	}
	return nil
}

func (c *MemoryCgroup) procsFile() string { return filepath.Join(c.dir, "cgroup.procs") }

// Peak is the most memory the cgroup's processes held at once.
func (c *MemoryCgroup) Peak() (int64, error) {
	file := "memory.max_usage_in_bytes"
	if c.v2 {
		file = "memory.peak"
	}
	raw, err := os.ReadFile(filepath.Join(c.dir, file))
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
}

// OOMKills is the number of processes the kernel killed in the cgroup for
// want of memory.
func (c *MemoryCgroup) OOMKills() (int64, error) {
	file := "memory.oom_control"
	if c.v2 {
		file = "memory.events"
	}
	f, err := os.Open(filepath.Join(c.dir, file))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == "oom_kill" {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("cgroup %s: no oom_kill count", file)
}

// Remove removes the cgroup; its processes must have exited.
func (c *MemoryCgroup) Remove() error { return os.Remove(c.dir) }
