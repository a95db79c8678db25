package web

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/api"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// ReadMethods are the operator RPCs the HTTP listener serves, each at
// /api/v1/<name in kebab case>: those that only read. Verify is left out
// (it re-verifies the whole store: too heavy to offer to every reader), and
// Export streams (caisse export serves it).
var ReadMethods = []string{"Status", "ListEntries", "Balances", "Members", "Peers", "Gossip", "PeriodStatus", "Redistribution",
	"Rules", "Proposals", "Settlements"}

// private are response fields that stay on the node: member names from the
// local register, and the data directory's path (it may hold a user name).
var private = map[protoreflect.Name]bool{"member_name": true, "data_dir": true}

var jsonOut = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true, Multiline: true}

// method is one read RPC reachable over HTTP.
type method struct {
	name    string
	input   protoreflect.MessageType
	handler func(srv any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error)
}

// kebab turns "PeriodStatus" into "period-status".
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// readMethods finds each read RPC in the service's descriptor and its
// generated handler.
func readMethods() (map[string]method, error) {
	svc := rpcv1.File_caisse_rpc_v1_operator_proto.Services().ByName("Operator")
	out := map[string]method{}
	for _, name := range ReadMethods {
		md := svc.Methods().ByName(protoreflect.Name(name))
		if md == nil || md.IsStreamingServer() || md.IsStreamingClient() {
			return nil, fmt.Errorf("web: operator RPC %s: not a unary RPC of the service", name)
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			return nil, fmt.Errorf("web: operator RPC %s: %w", name, err)
		}
		m := method{name: name, input: mt}
		for _, d := range rpcv1.Operator_ServiceDesc.Methods {
			if d.MethodName == name {
				m.handler = d.Handler
			}
		}
		if m.handler == nil {
			return nil, fmt.Errorf("web: operator RPC %s: no handler", name)
		}
		out[kebab(name)] = m
	}
	return out, nil
}

func (h *Handler) routeAPI() {
	methods, err := readMethods()
	if err != nil {
		panic(err) // the generated code and the list above disagree: a build mistake
	}
	h.mux.HandleFunc("GET /api/v1/{method}", func(w http.ResponseWriter, r *http.Request) {
		m, ok := methods[r.PathValue("method")]
		if !ok {
			apiError(w, http.StatusNotFound, fmt.Sprintf("no read call %q: see /api/v1/ for the list", r.PathValue("method")))
			return
		}
		req, err := decodeQuery(m.input, r)
		if err != nil {
			apiError(w, http.StatusBadRequest, err.Error())
			return
		}
		resp, err := h.call(r.Context(), m, req)
		if err != nil {
			h.apiFail(w, r, err)
			return
		}
		writeJSON(w, resp)
	})
	h.mux.HandleFunc("GET /api/v1/{$}", func(w http.ResponseWriter, r *http.Request) {
		var list []map[string]any
		for _, name := range ReadMethods {
			m := methods[kebab(name)]
			var params []string
			fields := m.input.Descriptor().Fields()
			for i := range fields.Len() {
				params = append(params, string(fields.Get(i).Name()))
			}
			list = append(list, map[string]any{"path": "/api/v1/" + kebab(name), "rpc": "caisse.rpc.v1.Operator/" + name, "params": params})
		}
		list = append(list, map[string]any{"path": "/api/v1/entries/{author}/{seq}", "rpc": "", "params": []string{}})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"calls": list})
	})
	h.mux.HandleFunc("GET /api/v1/entries/{author}/{seq}", h.rawEntry)
}

// call runs one read RPC through its generated handler, on the in-process
// service, and clears what must not leave the node.
func (h *Handler) call(ctx context.Context, m method, req proto.Message) (proto.Message, error) {
	dec := func(v any) error {
		proto.Merge(v.(proto.Message), req)
		return nil
	}
	out, err := m.handler(h.cfg.Operator, ctx, dec, nil)
	if err != nil {
		return nil, err
	}
	resp := out.(proto.Message)
	clearPrivate(resp.ProtoReflect())
	return resp, nil
}

// decodeQuery sets the request's fields from the query parameters, by
// their protobuf or JSON names. An unknown parameter, a repeated one or a
// value of the wrong type is an error that says which.
func decodeQuery(mt protoreflect.MessageType, r *http.Request) (proto.Message, error) {
	msg := mt.New()
	fields := mt.Descriptor().Fields()
	for key, vals := range r.URL.Query() {
		fd := fields.ByName(protoreflect.Name(key))
		if fd == nil {
			fd = fields.ByJSONName(key)
		}
		if fd == nil {
			var names []string
			for i := range fields.Len() {
				names = append(names, string(fields.Get(i).Name()))
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("parameter %q: this call takes none", key)
			}
			return nil, fmt.Errorf("parameter %q: unknown; this call takes %s", key, strings.Join(names, ", "))
		}
		if len(vals) != 1 {
			return nil, fmt.Errorf("parameter %q given %d times: once at most", key, len(vals))
		}
		v, err := scalar(fd, vals[0])
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", key, err)
		}
		msg.Set(fd, v)
	}
	return msg.Interface(), nil
}

func scalar(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	if fd.IsList() || fd.IsMap() {
		return protoreflect.Value{}, fmt.Errorf("not settable from a query")
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not true or false", s)
		}
		return protoreflect.ValueOfBool(b), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		u, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a whole number from 0 to %d", s, uint32(1<<32-1))
		}
		return protoreflect.ValueOfUint32(uint32(u)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a whole number from 0", s)
		}
		return protoreflect.ValueOfUint64(u), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		i, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a 32-bit whole number", s)
		}
		return protoreflect.ValueOfInt32(int32(i)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a 64-bit whole number", s)
		}
		return protoreflect.ValueOfInt64(i), nil
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByName(protoreflect.Name(s))
		if ev == nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not one of the values of %s", s, fd.Enum().Name())
		}
		return protoreflect.ValueOfEnum(ev.Number()), nil
	}
	return protoreflect.Value{}, fmt.Errorf("not settable from a query")
}

// clearPrivate clears the private fields of m and of every message in it.
func clearPrivate(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case private[fd.Name()]:
			m.Clear(fd)
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				clearPrivate(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				clearPrivate(mv.Message())
				return true
			})
		case fd.Message() != nil && !fd.IsMap():
			clearPrivate(v.Message())
		}
		return true
	})
}

func writeJSON(w http.ResponseWriter, m proto.Message) {
	b, err := jsonOut.Marshal(m)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
	w.Write([]byte("\n"))
}

func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": msg, "status": code})
}

// httpStatus maps an error of the node, through the operator API's
// mapping to gRPC codes, to an HTTP status.
func httpStatus(err error) (int, string) {
	st := api.Status(err)
	switch st.Code() {
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest, st.Message()
	case codes.NotFound:
		return http.StatusNotFound, st.Message()
	case codes.FailedPrecondition:
		return http.StatusConflict, st.Message()
	case codes.Unavailable:
		return http.StatusServiceUnavailable, st.Message()
	case codes.Canceled, codes.DeadlineExceeded:
		return http.StatusServiceUnavailable, st.Message()
	}
	return http.StatusInternalServerError, st.Message()
}

func (h *Handler) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := httpStatus(err)
	if code == http.StatusInternalServerError {
		h.cfg.Logger.Warn("web: api call failed", "path", r.URL.Path, "err", err)
	}
	apiError(w, code, msg)
}

// rawEntry serves one signed entry as JSON: its decoded body, its
// signature and whether the signature verifies against the body bytes.
func (h *Handler) rawEntry(w http.ResponseWriter, r *http.Request) {
	e, status, err := h.entry(r.PathValue("author"), r.PathValue("seq"))
	if err != nil {
		apiError(w, status, err.Error())
		return
	}
	body, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(e.Body())
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := struct {
		Author    string          `json:"author"`
		AuthorID  string          `json:"author_id"`
		Seq       uint64          `json:"seq"`
		Hash      string          `json:"hash"`
		Kind      string          `json:"kind"`
		Signature string          `json:"signature"`
		Verified  bool            `json:"verified"`
		BodyBytes string          `json:"body_bytes"`
		Body      json.RawMessage `json:"body"`
	}{e.Author().String(), string(e.Author().ID()), uint64(e.Seq()), e.Hash().String(), e.Kind(),
		hex.EncodeToString(e.Signature()), e.Verify() == nil, hex.EncodeToString(e.BodyBytes()), body}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// entry finds the entry an URL names: an author (hex key or node id) and a
// seq. The status says whether a failure is a malformed name (400) or a
// missing entry (404).
func (h *Handler) entry(author, seq string) (ledger.Entry, int, error) {
	a, err := parseCaisse(author)
	if err != nil {
		return ledger.Entry{}, http.StatusNotFound, fmt.Errorf("no caisse %q: %w", author, err)
	}
	s, err := strconv.ParseUint(seq, 10, 64)
	if err != nil || s == 0 {
		return ledger.Entry{}, http.StatusNotFound, fmt.Errorf("no entry %q: a seq is a whole number from 1", seq)
	}
	e, err := h.cfg.Entries.Entry(a, ledger.Seq(s))
	if err != nil {
		code, msg := httpStatus(err)
		if code == http.StatusNotFound {
			msg = fmt.Sprintf("no entry %d in the log of %s", s, a.ID().Short())
		}
		return ledger.Entry{}, code, fmt.Errorf("%s", msg)
	}
	return e, http.StatusOK, nil
}

// parseCaisse reads a caisse's key, hex, or its node id.
func parseCaisse(s string) (ledger.Author, error) {
	if a, err := ledger.ParseAuthor(s); err == nil {
		return a, nil
	}
	return ledger.ParseNodeID(s)
}
