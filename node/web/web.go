// Package web serves a node's dashboard and its read-only HTTP/JSON API.
//
// The JSON API (api.go) is the operator service's read RPCs mapped onto
// GET requests: query parameters are decoded into the request message by
// field name, the same in-process implementation that serves the operator
// socket answers, and the response is written with the protobuf JSON
// mapping. The dashboard's pages (pages.go) are rendered on the server from
// the same calls, with html/template and SVG charts drawn here (chart.go);
// they work with JavaScript off, and a little script reloads them.
//
// Nothing here can write: only GET and HEAD are answered, and only the read
// RPCs are reachable. Member names never leave the node: the local
// register's names are cleared from every response.
package web

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

//go:embed templates/*.html static/*
var files embed.FS

// EntryReader gives the signed entries themselves, for the signature mark of
// each entry shown and for the raw entry as JSON.
type EntryReader interface {
	Entry(a ledger.Author, s ledger.Seq) (ledger.Entry, error)
}

// Config configures the handler.
type Config struct {
	// Operator answers the read RPCs: the node's operator service, the
	// same implementation the operator socket serves.
	Operator rpcv1.OperatorServer
	// Entries reads signed entries from the node's store.
	Entries EntryReader
	// AllowOrigins lists the origins (scheme://host[:port]) whose pages may
	// read the JSON API from a browser (CORS). "*" allows any. Empty allows
	// none but the dashboard's own.
	AllowOrigins []string
	// Logger receives failed requests; nil discards.
	Logger *slog.Logger
	// Now is the clock the pages are dated by; nil is time.Now.
	Now func() time.Time
}

// Handler serves the dashboard and the JSON API.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	pages *pageSet
}

// csp is the content security policy of every response: no inline script
// or style, nothing from elsewhere, no framing.
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// New checks cfg and returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Operator == nil || cfg.Entries == nil {
		return nil, errors.New("web: config needs an operator service and an entry reader")
	}
	for _, o := range cfg.AllowOrigins {
		if o != "*" && (!strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2) {
			return nil, fmt.Errorf("web: allowed origin %q: want scheme://host[:port], or *", o)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), pages: pages}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	h.routeAPI()
	h.routePages()
	return h, nil
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP answers GET and HEAD only, with the security headers on every
// response.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.cors(w, r)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.WriteHeader(http.StatusNoContent) // a CORS preflight
			return
		}
		fallthrough
	default:
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed: this listener is read-only", http.StatusMethodNotAllowed)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// cors lets the allowed origins read the JSON API.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" {
		return
	}
	switch {
	case slices.Contains(h.cfg.AllowOrigins, "*"):
		w.Header().Set("Access-Control-Allow-Origin", "*")
	case slices.Contains(h.cfg.AllowOrigins, origin):
		w.Header().Set("Access-Control-Allow-Origin", origin)
	default:
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
	w.Header().Set("Access-Control-Max-Age", "600")
}
