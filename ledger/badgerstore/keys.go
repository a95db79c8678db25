package badgerstore

import (
	"encoding/binary"
	"fmt"

	"github.com/caisse-coop/caisse/ledger"
)

// Key layout. Every key starts with a one-byte prefix naming its table:
//
//	"e" author(32) seq(8, big-endian)  -> the entry's Marshal() bytes
//	"h" author(32)                     -> head: seq(8) hash(32) wall(8) logical(4), big-endian
//	"mversion"                         -> format version (8, big-endian)
//	"mcount"                           -> number of entries (8, big-endian)
//	"mmaxtime"                         -> latest entry time: wall(8) logical(4), big-endian
//
// Big-endian seqs make badger's byte order the log order, so a prefix
// iteration over "e" author is a scan of that author's log, and one over
// "e" is ScanAll: authors in byte order, each log in seq order.
//
// A head, the count and the max time are written in the same transaction
// as the entries they account for, so they never disagree with them.
// Entries are never rewritten; heads and meta keys are overwritten, and
// badger keeps one version of each (NumVersionsToKeep is 1).
const (
	prefixEntry = 'e'
	prefixHead  = 'h'
	prefixFork  = 'f' // "f" + author + seq (big-endian): a ledger.ForkProof
)

var (
	keyVersion = []byte("mversion")
	keyCount   = []byte("mcount")
	keyMaxTime = []byte("mmaxtime")
)

// formatVersion is the version of the key layout above. Open refuses a
// store written with another version.
const formatVersion = 1

const (
	entryKeyLen  = 1 + len(ledger.Author{}) + 8
	headValueLen = 8 + len(ledger.Hash{}) + hlcLen
	hlcLen       = 8 + 4
)

func entryPrefix(a ledger.Author) []byte {
	return append([]byte{prefixEntry}, a[:]...)
}

func entryKey(a ledger.Author, s ledger.Seq) []byte {
	return binary.BigEndian.AppendUint64(entryPrefix(a), uint64(s))
}

// parseEntryKey splits an entry key. The result does not share k's bytes.
func parseEntryKey(k []byte) (ledger.Author, ledger.Seq, error) {
	var a ledger.Author
	if len(k) != entryKeyLen || k[0] != prefixEntry {
		return a, 0, fmt.Errorf("entry key %x of %d bytes: %w", k, len(k), ErrCorrupt)
	}
	copy(a[:], k[1:])
	return a, ledger.Seq(binary.BigEndian.Uint64(k[1+len(a):])), nil
}

func headKey(a ledger.Author) []byte {
	return append([]byte{prefixHead}, a[:]...)
}

func parseHeadKey(k []byte) (ledger.Author, error) {
	var a ledger.Author
	if len(k) != 1+len(a) || k[0] != prefixHead {
		return a, fmt.Errorf("head key %x of %d bytes: %w", k, len(k), ErrCorrupt)
	}
	copy(a[:], k[1:])
	return a, nil
}

func encodeHead(h ledger.Head) []byte {
	b := make([]byte, 0, headValueLen)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Seq))
	b = append(b, h.Hash[:]...)
	return appendHLC(b, h.Time)
}

func decodeHead(b []byte) (ledger.Head, error) {
	var h ledger.Head
	if len(b) != headValueLen {
		return h, fmt.Errorf("head of %d bytes, want %d: %w", len(b), headValueLen, ErrCorrupt)
	}
	h.Seq = ledger.Seq(binary.BigEndian.Uint64(b))
	copy(h.Hash[:], b[8:])
	h.Time = decodeHLC(b[8+len(h.Hash):])
	if h.Seq == 0 {
		return h, fmt.Errorf("head at seq 0: %w", ErrCorrupt)
	}
	return h, nil
}

func appendHLC(b []byte, t ledger.HLC) []byte {
	b = binary.BigEndian.AppendUint64(b, t.Wall)
	return binary.BigEndian.AppendUint32(b, t.Logical)
}

// decodeHLC reads hlcLen bytes; the caller checked the length.
func decodeHLC(b []byte) ledger.HLC {
	return ledger.HLC{Wall: binary.BigEndian.Uint64(b), Logical: binary.BigEndian.Uint32(b[8:])}
}

func encodeUint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func decodeUint64(name string, b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%s of %d bytes, want 8: %w", name, len(b), ErrCorrupt)
	}
	return binary.BigEndian.Uint64(b), nil
}

func forkKey(a ledger.Author, s ledger.Seq) []byte {
	k := append([]byte{prefixFork}, a[:]...)
	return binary.BigEndian.AppendUint64(k, uint64(s))
}
