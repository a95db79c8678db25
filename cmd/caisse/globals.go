package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/internal/datadir"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// globals are the flags every command shares, and the connection.
type globals struct {
	socket  string
	dataDir string
	json    bool
	timeout time.Duration

	stdout, stderr io.Writer
	conn           *grpc.ClientConn
}

func (g *globals) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("caisse", flag.ContinueOnError)
	g.register(fs)
	return fs
}

// register declares the shared flags on fs, so that they can be given
// before or after the command name.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.socket, "socket", envOr("CAISSE_SOCKET", ""), "operator socket of the node (default <data-dir>/caissed.sock)")
	fs.StringVar(&g.dataDir, "data-dir", envOr("CAISSE_DATA_DIR", datadir.Default()), "data directory of the node")
	fs.BoolVar(&g.json, "json", false, "print JSON for scripts")
	fs.DurationVar(&g.timeout, "timeout", 30*time.Second, "give up on the node after this long")
}

func (g *globals) inherit(fs *flag.FlagSet) {
	if fs.Lookup("json") == nil {
		g.register(fs)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (g *globals) socketPath() string {
	if g.socket != "" {
		return g.socket
	}
	return datadir.Socket(g.dataDir)
}

// client connects to the node, once.
func (g *globals) client() (rpcv1.OperatorClient, error) {
	if g.conn == nil {
		path := g.socketPath()
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no node socket at %s: is caissed running? (start it with caissed, or give --socket or --data-dir)", path)
		}
		conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", path, err)
		}
		g.conn = conn
	}
	return rpcv1.NewOperatorClient(g.conn), nil
}

func (g *globals) close() {
	if g.conn != nil {
		g.conn.Close()
	}
}

// call runs one RPC with the command's timeout and turns its error into one
// clear line.
func call[Req, Resp any](ctx context.Context, g *globals, rpc func(rpcv1.OperatorClient, context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	var zero Resp
	c, err := g.client()
	if err != nil {
		return zero, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	resp, err := rpc(c, ctx, req)
	if err != nil {
		st := status.Convert(err)
		if st.Code() == codes.Unavailable && (strings.Contains(st.Message(), "connection error") || strings.Contains(st.Message(), "dial")) {
			return zero, fmt.Errorf("the node at %s does not answer: is caissed running? (%s)", g.socketPath(), st.Message())
		}
		return zero, fmt.Errorf("%s", st.Message())
	}
	return resp, nil
}

// printJSON writes v as indented JSON.
func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exponent asks the node for its currency's minor-unit digits, to show
// amounts in major units.
func (g *globals) currency(ctx context.Context) (*rpcv1.Currency, error) {
	st, err := call(ctx, g, rpcv1.OperatorClient.Status, &rpcv1.StatusRequest{})
	if err != nil {
		return nil, err
	}
	return st.GetCurrency(), nil
}

func money(amount int64, cur *rpcv1.Currency) string {
	return ledger.Amount(amount).Format(cur.GetExponent())
}

func msTime(ms uint64) string {
	return time.UnixMilli(int64(ms)).UTC().Format(time.RFC3339Nano)
}

func noArgs(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return nil
}

// positional returns the positional arguments of a command, parsing the
// flags given after them too, as people type them
// ("caisse period close 2026-11 --members 120").
// positionalN is positional for a command that takes exactly n
// positional arguments; otherwise the error is want.
func positionalN(fs *flag.FlagSet, args []string, n int, want string) ([]string, error) {
	pos, err := positional(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != n {
		return nil, errors.New(want)
	}
	return pos, nil
}

func positional(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		if strings.HasPrefix(args[0], "-") {
			if err := fs.Parse(args); err != nil {
				return nil, err
			}
			args = fs.Args()
			continue
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	return pos, nil
}
