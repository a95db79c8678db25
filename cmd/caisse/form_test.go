package main

import (
	"strings"
	"testing"
)

// TestFederationForm brings two nodes into a founder's federation in one
// command, then runs it again to check that it leaves members alone.
func TestFederationForm(t *testing.T) {
	founder := newFedNode(t, "Lyon", true)
	a := newFedNode(t, "Nantes", false)
	b := newFedNode(t, "Lille", false)
	args := []string{"federation", "form", "--wait", "90s", founder.p.DataDir, a.p.DataDir, b.p.Socket}

	var out formJSON
	cliJSON(t, founder.p, &out, args...)
	var st statusJSON
	cliJSON(t, founder.p, &st, "status")
	if out.FederationID != st.FederationID || len(out.Nodes) != 3 {
		t.Fatalf("form: %+v, want 3 nodes of federation %s", out, st.FederationID)
	}
	for i, want := range []string{"founder", "admitted", "admitted"} {
		if out.Nodes[i].Outcome != want {
			t.Errorf("node %d (%s): outcome %q, want %q", i, out.Nodes[i].Name, out.Nodes[i].Outcome, want)
		}
	}
	for _, n := range []*fedNode{a, b} {
		var s statusJSON
		cliJSON(t, n.p, &s, "status")
		if !s.Member || s.FederationID != st.FederationID {
			t.Errorf("%s after form: member %v of %s, want a member of %s", n.name, s.Member, s.FederationID, st.FederationID)
		}
	}
	var m membersOut
	cliJSON(t, founder.p, &m, "federation", "members")
	members := 0
	for _, x := range m.Members {
		if x.Status == "member" {
			members++
		}
	}
	if members != 3 {
		t.Errorf("founder lists %d members, want 3: %+v", members, m.Members)
	}

	// Again, as at every docker compose up: nothing to do.
	var again formJSON
	cliJSON(t, founder.p, &again, args...)
	for i, want := range []string{"founder", "member", "member"} {
		if again.Nodes[i].Outcome != want {
			t.Errorf("second run, node %d: outcome %q, want %q", i, again.Nodes[i].Outcome, want)
		}
	}
	var after membersOut
	cliJSON(t, founder.p, &after, "federation", "members")
	if len(after.Proposals) != len(m.Proposals) {
		t.Errorf("second run added proposals: %d, was %d", len(after.Proposals), len(m.Proposals))
	}
}

func TestFederationFormRefuses(t *testing.T) {
	founder := newFedNode(t, "Lyon", true)
	other := newFedNode(t, "Grenoble", true) // founded its own federation
	blank := newFedNode(t, "Brest", false)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"one node", []string{founder.p.DataDir}, "give the founder's data directory"},
		{"bad wait", []string{"--wait", "0s", founder.p.DataDir, blank.p.DataDir}, "--wait"},
		{"founder without a federation", []string{"--wait", "1s", blank.p.DataDir, founder.p.DataDir}, "no federation yet"},
		{"node of another federation", []string{"--wait", "10s", founder.p.DataDir, other.p.DataDir}, "belongs to another federation"},
		{"no node there", []string{"--wait", "1s", founder.p.DataDir, t.TempDir()}, "the node answering"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := cli(t, founder.p, append([]string{"federation", "form"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("form %v: err %v, out %q; want an error with %q", tc.args, err, out, tc.want)
			}
		})
	}
	// Nothing was changed: the blank node did not join, the founder is alone.
	var s statusJSON
	cliJSON(t, blank.p, &s, "status")
	if s.Founded || s.SyncAddr != "" {
		t.Errorf("blank node after refused forms: %+v", s)
	}
	var m membersOut
	cliJSON(t, founder.p, &m, "federation", "members")
	if len(m.Members) != 1 || len(m.Proposals) != 0 {
		t.Errorf("founder after refused forms: %+v", m)
	}
}
