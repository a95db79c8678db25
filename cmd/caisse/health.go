package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// healthJSON is what health --json prints.
type healthJSON struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
}

func healthCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse health", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "health",
		ShortUsage: "caisse health [--json]",
		ShortHelp:  "exit 0 if the node answers and has a federation, 1 with the reason otherwise",
		LongHelp: "health is for probes (systemd, Docker HEALTHCHECK, monitoring). It asks the\n" +
			"node's operator API for its status and succeeds when the node answers and is a\n" +
			"member of a federation, or an applicant joining one. Otherwise it prints one\n" +
			"line and exits 1. The admin listener's /healthz answers the same question over\n" +
			"HTTP, and checks that replication runs.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			reason, err := health(ctx, g)
			if g.json {
				if perr := g.printJSON(healthJSON{OK: err == nil, Reason: reason}); perr != nil {
					return perr
				}
				if err != nil {
					return errSilent
				}
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "ok: %s\n", reason)
			return nil
		},
	}
}

// health says why the node is healthy, or returns why it is not (the
// reason is then the error's text).
func health(ctx context.Context, g *globals) (string, error) {
	st, err := call(ctx, g, rpcv1.OperatorClient.Status, &rpcv1.StatusRequest{})
	if err != nil {
		return err.Error(), err
	}
	switch {
	case st.GetFounded() && st.GetMember():
		return fmt.Sprintf("member of %s", st.GetFederationName()), nil
	case st.GetFounded():
		return fmt.Sprintf("applicant to %s", st.GetFederationName()), nil
	case st.GetSyncAddr() != "":
		// Replicating without the charter yet: an applicant catching up.
		return "joining a federation", nil
	}
	err = fmt.Errorf("unhealthy: no federation yet: found one with caisse init, or join one")
	return err.Error(), err
}
