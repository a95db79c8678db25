package api

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// FuzzVectorFromProto decodes an Exchange request from a peer as the sync
// server does: no panic, and an accepted vector encodes back to itself.
func FuzzVectorFromProto(f *testing.F) {
	v := ledger.Vector{{1}: {Seq: 3, Hash: ledger.Hash{2}}, {4}: {Seq: 1, Hash: ledger.Hash{5}}}
	for _, r := range []*rpcv1.ExchangeRequest{
		{Federation: make([]byte, 32), Vector: VectorProto(v), Forks: 1},
		{Vector: []*rpcv1.Head{{Author: make([]byte, 31), Seq: 1, Hash: make([]byte, 32)}}},
		{Vector: []*rpcv1.Head{{Author: make([]byte, 32), Seq: 0, Hash: make([]byte, 32)}}},
		{Vector: append(VectorProto(v), VectorProto(v)...)},
	} {
		raw, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r rpcv1.ExchangeRequest
		if proto.Unmarshal(raw, &r) != nil {
			return
		}
		v, err := VectorFromProto(r.GetVector())
		if err != nil {
			return
		}
		back, err := VectorFromProto(VectorProto(v))
		if err != nil || len(back) != len(v) {
			t.Fatalf("an accepted vector does not round-trip: %v", err)
		}
		for a, h := range v {
			if back[a] != h {
				t.Fatalf("head of %s: %v, then %v", a.Short(), h, back[a])
			}
		}
	})
}
