package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"unicode/utf8"

	"github.com/caisse-coop/caisse/ledger"
)

// Head announces that an author's log reached Seq, whose entry has Hash. It
// is a hint that the sender may hold entries the receiver lacks, nothing
// more: see the package comment.
type Head struct {
	Author ledger.Author
	Seq    ledger.Seq
	Hash   ledger.Hash
}

func (h Head) String() string {
	return fmt.Sprintf("%s/%d@%s", h.Author.Short(), h.Seq, h.Hash.Short())
}

// The wire format of gossip messages, all carried as memberlist user
// messages (inside encrypted, labelled packets):
//
//	byte 0        version (1)
//	byte 1        kind: 1 head, 2 leave
//	head:  author [32] | seq [8, big-endian, ≥ 1] | hash [32] | n [1] | origin [n]
//	leave: n [1] | name [n]
//
// origin and name are node names, 1 to 255 bytes of UTF-8. A message must
// have exactly this length: anything else is malformed. A later version
// gets a new version byte; this one ignores it as malformed.
const (
	wireVersion = 1
	kindHead    = 1
	kindLeave   = 2

	headFixed = 2 + 32 + 8 + 32 + 1 // up to and including the origin's length
	maxName   = 255
)

// errMalformed is any message this package cannot decode.
var errMalformed = errors.New("gossip: malformed message")

func checkName(name string) error {
	if name == "" || len(name) > maxName || !utf8.ValidString(name) {
		return fmt.Errorf("node name must be 1 to %d bytes of UTF-8, got %d bytes", maxName, len(name))
	}
	return nil
}

func appendHead(b []byte, h Head, origin string) []byte {
	b = append(b, wireVersion, kindHead)
	b = append(b, h.Author[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Seq))
	b = append(b, h.Hash[:]...)
	b = append(b, byte(len(origin)))
	return append(b, origin...)
}

func appendLeave(b []byte, name string) []byte {
	b = append(b, wireVersion, kindLeave, byte(len(name)))
	return append(b, name...)
}

// message is a decoded gossip message.
type message struct {
	kind byte
	head Head   // kindHead
	name string // kindHead: origin; kindLeave: the leaving node
}

// decodeMessage decodes b, which it does not retain. It never panics: any
// input that is not exactly one well-formed message is errMalformed.
func decodeMessage(b []byte) (message, error) {
	if len(b) < 2 {
		return message{}, fmt.Errorf("%w: %d bytes", errMalformed, len(b))
	}
	if b[0] != wireVersion {
		return message{}, fmt.Errorf("%w: version %d", errMalformed, b[0])
	}
	switch b[1] {
	case kindHead:
		if len(b) < headFixed {
			return message{}, fmt.Errorf("%w: head of %d bytes", errMalformed, len(b))
		}
		var m message
		m.kind = kindHead
		copy(m.head.Author[:], b[2:34])
		m.head.Seq = ledger.Seq(binary.BigEndian.Uint64(b[34:42]))
		copy(m.head.Hash[:], b[42:74])
		n := int(b[74])
		if len(b) != headFixed+n {
			return message{}, fmt.Errorf("%w: head of %d bytes with a %d-byte origin", errMalformed, len(b), n)
		}
		if m.head.Seq == 0 {
			return message{}, fmt.Errorf("%w: head at seq 0", errMalformed)
		}
		m.name = string(b[headFixed:])
		if err := checkName(m.name); err != nil {
			return message{}, fmt.Errorf("%w: origin: %v", errMalformed, err)
		}
		return m, nil
	case kindLeave:
		if len(b) < 3 || len(b) != 3+int(b[2]) {
			return message{}, fmt.Errorf("%w: leave of %d bytes", errMalformed, len(b))
		}
		m := message{kind: kindLeave, name: string(b[3:])}
		if err := checkName(m.name); err != nil {
			return message{}, fmt.Errorf("%w: leave: %v", errMalformed, err)
		}
		return m, nil
	default:
		return message{}, fmt.Errorf("%w: kind %d", errMalformed, b[1])
	}
}

// Meta is what a node advertises in its memberlist metadata, which
// memberlist limits to 512 bytes (memberlist.MetaMaxSize).
type Meta struct {
	// GRPCAddr is the host:port where the node serves sync, or empty.
	GRPCAddr string
}

// Metadata layout: version (1) | n [1] | GRPCAddr [n]. Later versions only
// append fields, so a decoder reads the fields it knows and ignores the
// rest: nodes of different versions still find each other's addresses.
const metaVersion = 1

func (m Meta) encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	b := []byte{metaVersion, byte(len(m.GRPCAddr))}
	return append(b, m.GRPCAddr...), nil
}

func (m Meta) check() error {
	if m.GRPCAddr == "" {
		return nil
	}
	if len(m.GRPCAddr) > 255 {
		return fmt.Errorf("gRPC address is %d bytes, at most 255", len(m.GRPCAddr))
	}
	if _, _, err := net.SplitHostPort(m.GRPCAddr); err != nil {
		return fmt.Errorf("gRPC address %q: %w", m.GRPCAddr, err)
	}
	return nil
}

// decodeMeta decodes a node's metadata. Empty metadata is the zero Meta.
func decodeMeta(b []byte) (Meta, error) {
	if len(b) == 0 {
		return Meta{}, nil
	}
	if b[0] < metaVersion {
		return Meta{}, fmt.Errorf("gossip: metadata version %d", b[0])
	}
	if len(b) < 2 || len(b) < 2+int(b[1]) {
		return Meta{}, fmt.Errorf("gossip: metadata of %d bytes", len(b))
	}
	m := Meta{GRPCAddr: string(b[2 : 2+int(b[1])])}
	if err := m.check(); err != nil {
		return Meta{}, fmt.Errorf("gossip: metadata: %w", err)
	}
	return m, nil
}

// seenCache remembers the last heads received, so that a head heard twice
// is passed on and relayed once. It forgets the oldest first.
type seenCache struct {
	mu   sync.Mutex
	set  map[Head]struct{}
	ring []Head
	next int
}

func newSeenCache(n int) *seenCache {
	return &seenCache{set: make(map[Head]struct{}, n), ring: make([]Head, 0, n)}
}

// add reports whether h was new, and remembers it.
func (c *seenCache) add(h Head) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[h]; ok {
		return false
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, h)
	} else {
		delete(c.set, c.ring[c.next])
		c.ring[c.next] = h
		c.next = (c.next + 1) % len(c.ring)
	}
	c.set[h] = struct{}{}
	return true
}
