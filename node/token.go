package node

import (
	"encoding/base64"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// tokenPrefix starts every join token, so that a token is recognized and
// a wrong paste is refused with a clear message.
const tokenPrefix = "caisse-join-v1:"

// maxTokenLen bounds a token people paste.
const maxTokenLen = 4096

// encodeToken renders a join token as one line of text.
func encodeToken(t *rpcv1.JoinToken) string {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		panic(fmt.Sprintf("node: encode join token: %v", err))
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

// decodeToken parses and checks a join token.
func decodeToken(s string) (*rpcv1.JoinToken, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxTokenLen {
		return nil, invalid("join token of %d characters, at most %d", len(s), maxTokenLen)
	}
	body, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return nil, invalid("not a caisse join token: it starts with %q", tokenPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, invalid("join token: %v (was it cut while copying?)", err)
	}
	var t rpcv1.JoinToken
	if err := proto.Unmarshal(raw, &t); err != nil {
		return nil, invalid("join token: %v", err)
	}
	switch {
	case len(t.GetFederation()) != len(ledger.Hash{}):
		return nil, invalid("join token: federation id of %d bytes", len(t.GetFederation()))
	case len(t.GetInviter()) != len(ledger.Author{}):
		return nil, invalid("join token: inviter key of %d bytes", len(t.GetInviter()))
	case !validGossipKey(t.GetGossipKey()):
		return nil, invalid("join token: gossip key of %d bytes", len(t.GetGossipKey()))
	case t.GetInviterAddr() == "":
		return nil, invalid("join token: no address for the inviter")
	}
	return &t, nil
}

func validGossipKey(k []byte) bool { return len(k) == 16 || len(k) == 24 || len(k) == 32 }
