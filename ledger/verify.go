package ledger

import (
	"fmt"
	"sync"
	"sync/atomic"

	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Signatures are checked under the ZIP-215 rules: the cofactored equation,
// S below the group order, and the encodings of A and R as the edwards25519
// decoder of crypto/ed25519 accepts them. Every signature crypto/ed25519
// accepts is accepted here too (its cofactorless equation implies the
// cofactored one), and only the author's own key can make one it refuses.
// What matters is that one rule holds everywhere: a single check and a batch
// check agree on every input under ZIP-215, which they do not under the
// cofactorless rule, so two nodes that received the same entry one by one
// and in a batch decide the same.
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// maxExpandedKeys bounds the cache of expanded author keys (about 1.5 KiB
// each). A federation has hundreds of authors; keys beyond the bound, such as
// a stream of unknown authors, are verified without the cache.
const maxExpandedKeys = 4096

var expandedKeys struct {
	m sync.Map // Author → *voi.ExpandedPublicKey
	n atomic.Int64
}

// expandedKey returns a's key expanded for repeated verification, from the
// cache when it is there; nil if a is not a point on the curve, which no
// signature then verifies against.
func expandedKey(a Author) *voi.ExpandedPublicKey {
	if k, ok := expandedKeys.m.Load(a); ok {
		return k.(*voi.ExpandedPublicKey)
	}
	k, err := voi.NewExpandedPublicKey(voi.PublicKey(a[:]))
	if err != nil {
		return nil
	}
	if expandedKeys.n.Load() < maxExpandedKeys {
		if _, loaded := expandedKeys.m.LoadOrStore(a, k); !loaded {
			expandedKeys.n.Add(1)
		}
	}
	return k
}

// Verify checks the signature over the body bytes against the author key.
func (e Entry) Verify() error {
	k := expandedKey(e.author)
	if k == nil || !voi.VerifyExpandedWithOptions(k, signedMessage(e.body), e.sig, zip215) {
		return e.badSignature()
	}
	return nil
}

func (e Entry) badSignature() error {
	return fmt.Errorf("ledger: verify %s/%d: %w", e.author.Short(), e.Seq(), ErrBadSignature)
}

// FromProtos is FromProto for many entries at once: it decodes each and
// verifies their signatures as one batch, which costs a quarter (1024
// entries) to a half (16) of verifying them one by one when all are valid. If any is not, each is
// checked alone and errs says which. The i-th result is in[i] verified, or
// errs[i]. The entries keep in's byte slices.
func FromProtos(in []*caissev1.Entry) (entries []Entry, errs []error) {
	entries, errs = make([]Entry, len(in)), make([]error, len(in))
	batch := voi.NewBatchVerifierWithCapacity(len(in))
	added := make([]int, 0, len(in)) // batch position → index in in
	for i, p := range in {
		e, err := fromParts(p.GetBody(), p.GetSignature())
		if err != nil {
			errs[i] = err
			continue
		}
		k := expandedKey(e.author)
		if k == nil {
			errs[i] = e.badSignature()
			continue
		}
		entries[i] = e
		batch.AddExpandedWithOptions(k, signedMessage(e.body), e.sig, zip215)
		added = append(added, i)
	}
	if len(added) == 0 {
		return entries, errs
	}
	if all, valid := batch.Verify(nil); !all {
		for j, i := range added {
			if !valid[j] {
				errs[i] = entries[i].badSignature()
				entries[i] = Entry{}
			}
		}
	}
	return entries, errs
}
