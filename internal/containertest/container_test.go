package containertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The nodes of deploy/compose.yaml and their host numbers on its subnet.
var services = []struct {
	name string
	host int
}{{"lyon", 11}, {"nantes", 12}, {"lille", 13}}

// bench is one run of the compose file: a project, its image, its subnet.
type bench struct {
	t       *testing.T
	root    string   // the repository
	compose []string // "docker compose" or "docker-compose", with -p and -f
	env     []string
	image   string
	net     string // first three octets of the subnet
	ids     map[string]string
	acked   map[string]ack // "author/seq" -> what the node acknowledged
}

type ack struct {
	Author string `json:"author"`
	Seq    uint64 `json:"seq"`
	Hash   string `json:"hash"`
}

type status struct {
	NodeKey   string `json:"node_key"`
	Member    bool   `json:"member"`
	Entries   uint64 `json:"entries"`
	StateHash string `json:"state_hash"`
}

// TestComposeFederation builds the image, brings the demo federation up
// (it forms itself), records contributions on every node, disconnects
// nantes from the network while everyone keeps writing, reconnects it,
// kill -9s lille and starts it again, and checks that the three converge
// to one state hash with every acknowledged entry on every node.
func TestComposeFederation(t *testing.T) {
	if os.Getenv("CAISSE_CONTAINER_TEST") != "1" {
		t.Skip("the container test runs with CAISSE_CONTAINER_TEST=1 (make container-test); it needs a Docker engine")
	}
	b := newBench(t)
	b.up()

	keys := map[string]string{}
	for _, s := range services {
		var st status
		b.cliJSON(s.name, &st, "status")
		if !st.Member {
			t.Fatalf("%s is not a member after the federation formed: %+v", s.name, st)
		}
		keys[s.name] = st.NodeKey
	}

	t.Log("writing on every node")
	for _, s := range services {
		b.write(s.name, 5, "2026-10")
	}

	t.Log("cutting nantes off the network")
	network := b.network("nantes")
	b.docker("network", "disconnect", network, b.ids["nantes"])
	partitioned := b.write("nantes", 5, "2026-11")
	b.write("lyon", 5, "2026-11")
	b.write("lille", 5, "2026-11")
	// Long enough for gossip to declare nantes failed and for a few rounds
	// of anti-entropy (5s in the compose file) to try it.
	time.Sleep(15 * time.Second)
	var lyonSees struct {
		Entries []ack `json:"entries"`
	}
	b.cliJSON("lyon", &lyonSees, "entries", "--author", keys["nantes"])
	for _, e := range lyonSees.Entries {
		if e.Seq >= partitioned[0].Seq {
			t.Fatalf("lyon holds nantes's entry %d, recorded while nantes was cut off: the partition did not hold", e.Seq)
		}
	}
	t.Log("reconnecting nantes")
	b.docker("network", "connect", "--ip", fmt.Sprintf("%s.%d", b.net, 12), network, b.ids["nantes"])
	b.write("nantes", 3, "2026-11")

	t.Log("killing lille")
	b.docker("kill", "--signal", "KILL", b.ids["lille"])
	b.write("lyon", 5, "2026-12")
	b.write("nantes", 5, "2026-12")
	b.docker("start", b.ids["lille"])
	// A restarted node records nothing until a peer has told it where its
	// own log stands: retry until it accepts.
	b.waitFor(2*time.Minute, "lille recording again after its restart", func() (bool, string) {
		_, err := b.contribute("lille", "2026-12", 0)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	b.write("lille", 4, "2026-12")

	t.Log("waiting for the three to converge")
	var last []status
	b.waitFor(3*time.Minute, "one state hash on the three nodes", func() (bool, string) {
		last = last[:0]
		for _, s := range services {
			var st status
			if err := b.tryJSON(s.name, &st, "status"); err != nil {
				return false, err.Error()
			}
			last = append(last, st)
		}
		for _, st := range last[1:] {
			if st.StateHash != last[0].StateHash || st.Entries != last[0].Entries {
				return false, fmt.Sprintf("%+v", last)
			}
		}
		return true, ""
	})

	// Nothing acknowledged is lost: every node holds every acknowledged
	// entry, with the hash it was acknowledged with.
	for _, s := range services {
		held := map[string]string{}
		for _, author := range keys {
			var out struct {
				Entries []ack `json:"entries"`
			}
			b.cliJSON(s.name, &out, "entries", "--author", author)
			for _, e := range out.Entries {
				held[fmt.Sprintf("%s/%d", e.Author, e.Seq)] = e.Hash
			}
		}
		for k, a := range b.acked {
			if held[k] != a.Hash {
				t.Errorf("%s: acknowledged entry %s (%s) is missing or different (%q)", s.name, k, a.Hash, held[k])
			}
		}
		var v struct {
			OK       bool     `json:"ok"`
			Problems []string `json:"problems"`
		}
		b.cliJSON(s.name, &v, "verify")
		if !v.OK {
			t.Errorf("%s: caisse verify: %v", s.name, v.Problems)
		}
	}
	if uint64(len(b.acked)) > last[0].Entries {
		t.Errorf("%d entries acknowledged, but the nodes hold %d in all", len(b.acked), last[0].Entries)
	}
	t.Logf("converged: %d entries on each node, state %s, %d acknowledged by the test", last[0].Entries, last[0].StateHash[:16], len(b.acked))

	// The image's health check (caisse health, through the binary itself)
	// reports the three healthy.
	b.waitFor(2*time.Minute, "docker reporting the three nodes healthy", func() (bool, string) {
		var states []string
		for _, s := range services {
			states = append(states, s.name+" "+b.docker("inspect", "-f", "{{.State.Health.Status}}", b.ids[s.name]))
		}
		return !strings.Contains(strings.Join(states, ","), "starting") && !strings.Contains(strings.Join(states, ","), "unhealthy"), strings.Join(states, ", ")
	})
}

// newBench checks that Docker answers, builds the binaries and the image,
// and names a compose project of its own.
func newBench(t *testing.T) *bench {
	t.Helper()
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("CAISSE_CONTAINER_TEST=1 but no Docker engine answers (docker info: %v): %s", err, bytes.TrimSpace(out))
	}
	var compose []string
	if exec.Command("docker", "compose", "version").Run() == nil {
		compose = []string{"docker", "compose"}
	} else if exec.Command("docker-compose", "version").Run() == nil {
		compose = []string{"docker-compose"}
	} else {
		t.Fatal("CAISSE_CONTAINER_TEST=1 but neither docker compose nor docker-compose is installed")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	id := randomHex(t)
	b := &bench{
		t: t, root: root, image: "caisse-containertest:" + id, ids: map[string]string{}, acked: map[string]ack{},
		compose: append(compose, "-p", "caissetest"+id, "-f", filepath.Join(root, "deploy", "compose.yaml")),
	}

	// The image, from the Dockerfile as it is, around freshly built static
	// binaries, in a build context of their own.
	ctx := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctx, "bin")+string(os.PathSeparator), "./cmd/caissed", "./cmd/caisse")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, f := range []string{"deploy/Dockerfile", "deploy/rootfs/data/README"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(ctx, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("building %s", b.image)
	b.docker("build", "-q", "-f", filepath.Join(ctx, "deploy", "Dockerfile"), "-t", b.image, ctx)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", b.image).Run() })
	return b
}

// up brings the federation up on a subnet nobody uses, and waits for the
// one-shot form service to have formed it.
func (b *bench) up() {
	t := b.t
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := b.run(2*time.Minute, append(b.compose, "logs", "--no-color", "--tail", "80")...)
			t.Logf("compose logs:\n%s", out)
		}
		if out, err := b.run(2*time.Minute, append(b.compose, "down", "-v", "--remove-orphans")...); err != nil {
			t.Logf("compose down: %v\n%s", err, out)
		}
	})
	var out string
	var err error
	for try := 0; try < 6; try++ {
		n, _ := rand.Int(rand.Reader, big.NewInt(200))
		b.net = fmt.Sprintf("172.29.%d", 20+n.Int64())
		b.env = append(os.Environ(), "CAISSE_IMAGE="+b.image, "CAISSE_DEMO_NET="+b.net)
		out, err = b.run(3*time.Minute, append(b.compose, "up", "-d", "--no-build")...)
		if err == nil {
			break
		}
		if !strings.Contains(out, "overlap") {
			t.Fatalf("compose up: %v\n%s", err, out)
		}
		b.run(2*time.Minute, append(b.compose, "down", "-v")...)
	}
	if err != nil {
		t.Fatalf("compose up: no free subnet found: %v\n%s", err, out)
	}
	for _, s := range append([]string{"form"}, "lyon", "nantes", "lille") {
		b.ids[s] = b.mustRun(time.Minute, append(b.compose, "ps", "-q", s)...)
		if b.ids[s] == "" {
			t.Fatalf("compose: no container for %s", s)
		}
	}
	code := b.mustRun(4*time.Minute, "docker", "wait", b.ids["form"])
	logs, _ := b.run(time.Minute, "docker", "logs", b.ids["form"])
	if code != "0" {
		t.Fatalf("the form service exited with %s:\n%s", code, logs)
	}
	t.Logf("formed:\n%s", logs)
}

// network is the compose network a node's container is on.
func (b *bench) network(svc string) string {
	return b.docker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", b.ids[svc])
}

// write records n contributions on svc and remembers each acknowledgement;
// it fails the test on an error.
func (b *bench) write(svc string, n int, period string) []ack {
	b.t.Helper()
	var acks []ack
	for i := 0; i < n; i++ {
		a, err := b.contribute(svc, period, i)
		if err != nil {
			b.t.Fatalf("%s: contribute: %v", svc, err)
		}
		acks = append(acks, a)
	}
	return acks
}

func (b *bench) contribute(svc, period string, i int) (ack, error) {
	var a ack
	err := b.tryJSON(svc, &a, "contribute", "--member", fmt.Sprintf("Membre %d de %s", i%4, svc),
		"--amount", fmt.Sprintf("%d.%02d", 5+i%7, 10*i%100), "--period", period)
	if err != nil {
		return a, err
	}
	if a.Author == "" || a.Seq == 0 || a.Hash == "" {
		return a, fmt.Errorf("acknowledgement without an entry: %+v", a)
	}
	b.acked[fmt.Sprintf("%s/%d", a.Author, a.Seq)] = a
	return a, nil
}

// tryJSON runs the caisse CLI inside svc's container (the image has no
// shell: the binary is run directly) and decodes its --json output.
func (b *bench) tryJSON(svc string, v any, args ...string) error {
	out, err := b.run(time.Minute, append([]string{"docker", "exec", b.ids[svc], "/usr/local/bin/caisse", "--json"}, args...)...)
	if err != nil {
		return fmt.Errorf("caisse %s on %s: %v: %s", strings.Join(args, " "), svc, err, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("caisse %s on %s: %v: %s", strings.Join(args, " "), svc, err, out)
	}
	return nil
}

func (b *bench) cliJSON(svc string, v any, args ...string) {
	b.t.Helper()
	if err := b.tryJSON(svc, v, args...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) docker(args ...string) string {
	b.t.Helper()
	return b.mustRun(3*time.Minute, append([]string{"docker"}, args...)...)
}

func (b *bench) mustRun(timeout time.Duration, args ...string) string {
	b.t.Helper()
	out, err := b.run(timeout, args...)
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// run runs a command with the bench's environment; stdout, trimmed, or
// stdout and stderr on an error.
func (b *bench) run(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = b.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(stdout.String() + "\n" + stderr.String()), err
	}
	return strings.TrimSpace(stdout.String()), nil
}

// waitFor polls cond until it holds, or fails the test after timeout with
// the last reason cond gave.
func (b *bench) waitFor(timeout time.Duration, what string, cond func() (bool, string)) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited %v for %s: %s", timeout, what, why)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func randomHex(t *testing.T) string {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(r[:])
}
