// Package backup is caisse's portable backup format: a node's signed
// entries and fork proofs, exactly as signed, in a versioned,
// length-prefixed stream that ends with a SHA-256 of everything before it.
// It depends on no store's on-disk format, so a backup outlives a change
// of storage engine, and it holds only what the federation replicates
// anyway: no key, no member name.
//
// The stream, version 1:
//
//	magic     "CAISSEBK"
//	version   1 byte (1)
//	header    federation id (32 bytes), state hash (32 bytes),
//	          entries (uvarint), fork proofs (uvarint)
//	records   kind (1 byte: 1 entry, 2 fork proof), length (uvarint),
//	          the record's bytes (ledger.Entry.Marshal, ForkProof.Marshal)
//	end       kind 0, then SHA-256 of every byte before it (32 bytes)
//
// Entries come author by author, each log in seq order, so that loading
// them in order extends every chain.
package backup

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/caisse-coop/caisse/ledger"
)

// Version is the format version this package writes and reads.
const Version = 1

const magic = "CAISSEBK"

// MaxRecord bounds one record: a fork proof holds two entries.
const MaxRecord = 2*ledger.MaxEntrySize + 4096

const (
	kindEnd   = 0
	kindEntry = 1
	kindFork  = 2
)

// ErrCorrupt marks a stream that is not a whole, intact backup: truncated,
// altered, of another version, or not a backup at all.
var ErrCorrupt = errors.New("backup: not a whole, intact caisse backup")

// Header describes a backup: the federation, the state hash of the node
// when it was taken, and how many records follow.
type Header struct {
	Federation ledger.Hash
	State      ledger.Hash
	Entries    uint64
	Forks      uint64
}

// Writer writes a backup. Close writes the end and the checksum; a stream
// without them is refused by Reader.
type Writer struct {
	w      io.Writer
	h      hash.Hash
	head   Header
	n, f   uint64
	err    error
	closed bool
}

// NewWriter writes the magic, version and header to w.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	bw := &Writer{w: w, h: sha256.New(), head: h}
	buf := append([]byte(magic), Version)
	buf = append(buf, h.Federation[:]...)
	buf = append(buf, h.State[:]...)
	buf = binary.AppendUvarint(buf, h.Entries)
	buf = binary.AppendUvarint(buf, h.Forks)
	bw.write(buf)
	return bw, bw.err
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	w.h.Write(b)
	_, w.err = w.w.Write(b)
}

func (w *Writer) record(kind byte, data []byte) error {
	if w.closed {
		return errors.New("backup: write after close")
	}
	if len(data) > MaxRecord {
		return fmt.Errorf("backup: record of %d bytes, at most %d", len(data), MaxRecord)
	}
	buf := binary.AppendUvarint([]byte{kind}, uint64(len(data)))
	w.write(buf)
	w.write(data)
	return w.err
}

// Entry writes one entry.
func (w *Writer) Entry(e ledger.Entry) error {
	if w.n == w.head.Entries {
		return fmt.Errorf("backup: more than the %d entries of the header", w.head.Entries)
	}
	w.n++
	return w.record(kindEntry, e.Marshal())
}

// Fork writes one fork proof.
func (w *Writer) Fork(p ledger.ForkProof) error {
	if w.f == w.head.Forks {
		return fmt.Errorf("backup: more than the %d fork proofs of the header", w.head.Forks)
	}
	w.f++
	return w.record(kindFork, p.Marshal())
}

// Close writes the end and the checksum, once every record the header
// announced is written. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	if w.n != w.head.Entries || w.f != w.head.Forks {
		return fmt.Errorf("backup: %d entries and %d fork proofs written, the header announced %d and %d", w.n, w.f, w.head.Entries, w.head.Forks)
	}
	w.closed = true
	w.write([]byte{kindEnd})
	if w.err == nil {
		_, w.err = w.w.Write(w.h.Sum(nil))
	}
	return w.err
}

// Record is one record of a backup: an entry, or a fork proof.
type Record struct {
	Entry ledger.Entry
	Fork  ledger.ForkProof
}

// IsFork reports whether the record is a fork proof.
func (r Record) IsFork() bool { return r.Entry.IsZero() }

// Reader reads a backup, verifying every signature as it goes and the
// checksum at the end: Next returns io.EOF only once the whole stream is
// known intact. A caller that stores records as they come must throw them
// away on any other error.
type Reader struct {
	r    *bufio.Reader
	h    hash.Hash
	head Header
	n, f uint64
	done bool
	off  int64
}

// NewReader reads and checks the magic, version and header.
func NewReader(r io.Reader) (*Reader, error) {
	br := &Reader{r: bufio.NewReaderSize(r, 64<<10), h: sha256.New()}
	pre := make([]byte, len(magic)+1)
	if err := br.full(pre); err != nil {
		return nil, br.corrupt("header", err)
	}
	if string(pre[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: no caisse backup magic at the start", ErrCorrupt)
	}
	if pre[len(magic)] != Version {
		return nil, fmt.Errorf("%w: format version %d, this caisse reads version %d", ErrCorrupt, pre[len(magic)], Version)
	}
	var ids [64]byte
	if err := br.full(ids[:]); err != nil {
		return nil, br.corrupt("header", err)
	}
	copy(br.head.Federation[:], ids[:32])
	copy(br.head.State[:], ids[32:])
	var err error
	if br.head.Entries, err = br.uvarint(); err != nil {
		return nil, br.corrupt("header", err)
	}
	if br.head.Forks, err = br.uvarint(); err != nil {
		return nil, br.corrupt("header", err)
	}
	return br, nil
}

// Header is the backup's header.
func (r *Reader) Header() Header { return r.head }

func (r *Reader) corrupt(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated in the %s at byte %d (after %d entries and %d fork proofs)", ErrCorrupt, what, r.off, r.n, r.f)
	}
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %s at byte %d: %w", ErrCorrupt, what, r.off, err)
}

func (r *Reader) full(b []byte) error {
	k, err := io.ReadFull(r.r, b)
	r.h.Write(b[:k])
	r.off += int64(k)
	return err
}

// ReadByte implements io.ByteReader for binary.ReadUvarint, hashing what
// it reads.
func (r *Reader) ReadByte() (byte, error) {
	c, err := r.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	r.h.Write([]byte{c})
	r.off++
	return c, nil
}

func (r *Reader) uvarint() (uint64, error) { return binary.ReadUvarint(r) }

// Next returns the next record, verified. It returns io.EOF after the
// last, once the checksum matches and the counts are those of the header.
func (r *Reader) Next() (Record, error) {
	if r.done {
		return Record{}, io.EOF
	}
	kind, err := r.ReadByte()
	if err != nil {
		return Record{}, r.corrupt("record", err)
	}
	if kind == kindEnd {
		return Record{}, r.end()
	}
	size, err := r.uvarint()
	if err != nil {
		return Record{}, r.corrupt("record length", err)
	}
	if size > MaxRecord {
		return Record{}, fmt.Errorf("%w: record of %d bytes at byte %d, at most %d", ErrCorrupt, size, r.off, MaxRecord)
	}
	data := make([]byte, size)
	if err := r.full(data); err != nil {
		return Record{}, r.corrupt("record", err)
	}
	switch kind {
	case kindEntry:
		if r.n == r.head.Entries {
			return Record{}, fmt.Errorf("%w: more entries than the %d of the header", ErrCorrupt, r.head.Entries)
		}
		e, err := ledger.Decode(data)
		if err != nil {
			return Record{}, fmt.Errorf("%w: entry %d: %w", ErrCorrupt, r.n+1, err)
		}
		if e.Federation() != r.head.Federation && e.Body().GetGenesis() == nil {
			return Record{}, fmt.Errorf("%w: entry %s of another federation", ErrCorrupt, e)
		}
		r.n++
		return Record{Entry: e}, nil
	case kindFork:
		if r.f == r.head.Forks {
			return Record{}, fmt.Errorf("%w: more fork proofs than the %d of the header", ErrCorrupt, r.head.Forks)
		}
		p, err := ledger.DecodeForkProof(data)
		if err != nil {
			return Record{}, fmt.Errorf("%w: fork proof %d: %w", ErrCorrupt, r.f+1, err)
		}
		r.f++
		return Record{Fork: p}, nil
	}
	return Record{}, fmt.Errorf("%w: record kind %d at byte %d", ErrCorrupt, kind, r.off)
}

func (r *Reader) end() error {
	want := r.h.Sum(nil)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r.r, got); err != nil {
		return r.corrupt("checksum", err)
	}
	if string(got) != string(want) {
		return fmt.Errorf("%w: checksum mismatch: the file was altered", ErrCorrupt)
	}
	if r.n != r.head.Entries || r.f != r.head.Forks {
		return fmt.Errorf("%w: %d entries and %d fork proofs, the header announced %d and %d", ErrCorrupt, r.n, r.f, r.head.Entries, r.head.Forks)
	}
	if _, err := r.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: bytes after the checksum", ErrCorrupt)
	}
	r.done = true
	return io.EOF
}
