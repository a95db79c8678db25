package node

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func TestJoinToken(t *testing.T) {
	good := &rpcv1.JoinToken{
		Federation: make([]byte, 32), GossipKey: make([]byte, 32), Inviter: make([]byte, 32),
		InviterAddr: "192.0.2.1:7947", GossipSeeds: []string{"192.0.2.1:7946"},
	}
	s := encodeToken(good)
	back, err := decodeToken("  " + s + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(good, back) {
		t.Errorf("round trip: got %v, want %v", back, good)
	}
	for _, tc := range []struct{ name, token, want string }{
		{"not a token", "hello", "not a caisse join token"},
		{"cut", s[:len(s)-7] + "!!", "join token"},
		{"too long", tokenPrefix + strings.Repeat("A", maxTokenLen), "at most"},
		{"no inviter address", encodeToken(&rpcv1.JoinToken{Federation: make([]byte, 32), GossipKey: make([]byte, 32), Inviter: make([]byte, 32)}), "address"},
		{"bad key", encodeToken(&rpcv1.JoinToken{Federation: make([]byte, 32), GossipKey: make([]byte, 5), Inviter: make([]byte, 32), InviterAddr: "x:1"}), "gossip key"},
		{"bad federation", encodeToken(&rpcv1.JoinToken{Federation: make([]byte, 3), GossipKey: make([]byte, 32), Inviter: make([]byte, 32), InviterAddr: "x:1"}), "federation"},
	} {
		if _, err := decodeToken(tc.token); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}
