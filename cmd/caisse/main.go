// Command caisse is the operator CLI of a caisse node. It speaks to the
// node only through its operator API, on the unix socket in the node's data
// directory by default. Every command takes --json for scripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.Is(err, errSilent):
		os.Exit(1)
	default:
		fmt.Fprintf(os.Stderr, "caisse: %v\n", err)
		os.Exit(1)
	}
}

// errSilent is returned by a command that already said what went wrong.
var errSilent = errors.New("failed")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &ffcli.Command{
		Name:       "caisse",
		ShortUsage: "caisse [--socket PATH | --data-dir DIR] [--json] <command> [flags]",
		ShortHelp:  "operate a caisse node",
		LongHelp: "caisse talks to a running caissed over its operator API: the unix socket\n" +
			"in the node's data directory, whose file permissions are the authentication.",
		FlagSet: g.flags(),
		Subcommands: []*ffcli.Command{
			initCmd(g), statusCmd(g), healthCmd(g), contributeCmd(g), disburseCmd(g), correctCmd(g),
			entriesCmd(g), balancesCmd(g), verifyCmd(g),
			federationCmd(g), proposeGroupCmd(g), voteCmd(g), proposalsCmd(g), rulesCmd(g), peersCmd(g), gossipCmd(g),
			restoreCmd(g), periodCmd(g), redistributionCmd(g), settleCmd(g), ackCmd(g), settlementsCmd(g), exportCmd(g),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
	var inherit func([]*ffcli.Command)
	inherit = func(cs []*ffcli.Command) {
		for _, c := range cs {
			g.inherit(c.FlagSet)
			inherit(c.Subcommands)
		}
	}
	inherit(root.Subcommands)
	if err := root.Parse(args); err != nil {
		return err
	}
	defer g.close()
	return root.Run(ctx)
}
