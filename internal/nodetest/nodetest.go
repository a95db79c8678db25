// Package nodetest builds and runs real caissed processes for tests:
// start, wait until the operator API answers, stop with SIGTERM or kill -9.
package nodetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// Build compiles the module's commands (caissed, caisse) into dir and
// returns dir. Call it from TestMain, with a dir the caller removes.
func Build(dir string, cmds ...string) error {
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, c := range cmds {
		args = append(args, "github.com/caisse-coop/caisse/cmd/"+c)
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// Proc is a running caissed.
type Proc struct {
	DataDir string
	Socket  string

	t    testing.TB
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
	err  error
}

func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

// Logs returns what the process wrote so far.
func (p *Proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// Start runs bin (a caissed) on dataDir with extra args and waits until its
// operator API answers Status. The process is killed at the end of the test
// if still running.
func Start(t testing.TB, bin, dataDir string, args ...string) *Proc {
	t.Helper()
	return start(t, nil, bin, dataDir, args)
}

// StartIn is Start with the process in cgroup cg from its first
// instruction: a shell joins the cgroup, then runs caissed in its place.
func StartIn(t testing.TB, cg *MemoryCgroup, bin, dataDir string, args ...string) *Proc {
	t.Helper()
	return start(t, cg, bin, dataDir, args)
}

func start(t testing.TB, cg *MemoryCgroup, bin, dataDir string, args []string) *Proc {
	t.Helper()
	p := &Proc{DataDir: dataDir, Socket: filepath.Join(dataDir, "caissed.sock"), t: t, done: make(chan struct{})}
	// Port 0 everywhere: tests run side by side.
	base := []string{"--data-dir", dataDir, "--log-level", "debug",
		"--sync-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0", "--gossip-profile", "local",
		"--admin-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0"}
	argv := append([]string{bin}, append(base, args...)...)
	if cg != nil {
		argv = append([]string{"/bin/sh", "-c", `echo $$ > "$0" && exec "$@"`, cg.procsFile()}, argv...)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.Env = append(os.Environ(), "HOME="+dataDir)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start caissed: %v", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	p.WaitReady(t, 60*time.Second)
	return p
}

// WaitReady polls the operator API until Status answers, the process
// exits, or timeout passes.
func (p *Proc) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			t.Fatalf("caissed exited before answering: %v\n%s", p.err, p.Logs())
		default:
		}
		if _, err := os.Stat(p.Socket); err == nil {
			c := p.Client(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err := c.Status(ctx, &rpcv1.StatusRequest{})
			cancel()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("caissed did not answer within %v\n%s", timeout, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client connects to the node's operator socket; closed at test end.
func (p *Proc) Client(t testing.TB) rpcv1.OperatorClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+p.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", p.Socket, err)
	}
	t.Cleanup(func() { conn.Close() })
	return rpcv1.NewOperatorClient(conn)
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("caissed did not stop within 30s of SIGTERM\n%s", p.Logs())
	}
	if p.err != nil {
		t.Fatalf("caissed exited with %v after SIGTERM\n%s", p.err, p.Logs())
	}
}

// PID is the process id, to read /proc/PID while it runs.
func (p *Proc) PID() int { return p.cmd.Process.Pid }
