package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/caisse-coop/caisse/ledger"
)

// register is the node's local member register: who is behind each
// pseudonym. It is a file of its own beside the ledger, mode 0600, and is
// never replicated, served to peers or written into an entry: union
// membership is sensitive data.
type register struct {
	path string

	mu      sync.Mutex
	members map[string]person // by pseudonym, hex
}

type person struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

type registerFileFormat struct {
	Version int               `json:"version"`
	Members map[string]person `json:"members"`
}

func openRegister(path string) (*register, error) {
	r := &register{path: path, members: map[string]person{}}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("node: register: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	var f registerFileFormat
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("node: register %s: %w", path, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("node: register %s: version %d, want 1", path, f.Version)
	}
	if f.Members != nil {
		r.members = f.Members
	}
	return r, nil
}

// remember records who is behind p, durably, before any entry names p.
func (r *register) remember(p ledger.Pseudonym, name, email string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := p.String()
	old, ok := r.members[key]
	next := person{Name: strings.Join(strings.Fields(name), " "), Email: strings.TrimSpace(email)}
	if next.Email == "" {
		next.Email = old.Email
	}
	if ok && old == next {
		return nil
	}
	r.members[key] = next
	raw, err := json.MarshalIndent(registerFileFormat{Version: 1, Members: r.members}, "", "  ")
	if err == nil {
		err = writeFileAtomic(r.path, raw, 0o600)
	}
	if err != nil {
		if ok {
			r.members[key] = old
		} else {
			delete(r.members, key)
		}
		return fmt.Errorf("node: register: %w", err)
	}
	return nil
}

// name returns the name behind p, or "" if this node does not know it.
func (r *register) name(p []byte) string {
	if len(p) != len(ledger.Pseudonym{}) {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.members[ledger.Pseudonym(p).String()].Name
}

// mentioned returns what of a registered person's name or e-mail the text
// holds, or "". Notes are replicated to the whole federation, so one that
// names a member is refused.
func (r *register) mentioned(text string, extra ...string) string {
	folded := ledger.NormalizeName(text)
	if folded == "" {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	check := func(s string) bool { return containsWord(folded, ledger.NormalizeName(s)) }
	for _, s := range extra {
		if check(s) {
			return s
		}
	}
	for _, p := range r.members {
		if check(p.Name) {
			return p.Name
		}
		if check(p.Email) {
			return p.Email
		}
	}
	return ""
}

// containsWord reports whether text holds word with no letter or digit
// glued to either side: a member called "Li" does not block "livres".
func containsWord(text, word string) bool {
	if word == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		i = start + 1
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
