package mock

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"syscall"
)

// NewHandlerTransport returns an http.RoundTripper that serves every
// request with h in memory: no sockets, no goroutines, so it is safe inside
// testing/synctest bubbles and with clock.Mock.
//
// The handler sees a server-side request (RequestURI, Host, RemoteAddr
// "192.0.2.1:1234", TLS set for https URLs, the client's context, a body of
// at most 1 MiB). The response is buffered; a Content-Type the handler left
// unset is sniffed as net/http does. A handler that panics with
// http.ErrAbortHandler (as net/http servers allow, to drop a connection)
// makes RoundTrip fail with a connection-reset error; other panics
// propagate. If the request's context ends while the handler runs,
// RoundTrip returns the context's error. Redirects are left to the
// http.Client, as with any transport.
func NewHandlerTransport(h http.Handler) http.RoundTripper { return &handlerTransport{h: h} }

type handlerTransport struct{ h http.Handler }

// errConnReset is what a dropped connection looks like to a client.
func errConnReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

func (t *handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if req.URL == nil {
		return nil, errors.New("mock: request without URL")
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var body []byte
	if req.Body != nil {
		body, err = io.ReadAll(io.LimitReader(req.Body, maxRequestBody+1))
		if err != nil {
			return nil, fmt.Errorf("mock: reading request body: %w", err)
		}
		if len(body) > maxRequestBody {
			return nil, fmt.Errorf("mock: request body over %d bytes", maxRequestBody)
		}
	}
	sr := req.Clone(ctx)
	sr.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	sr.RequestURI = req.URL.RequestURI()
	sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	sr.Host = req.Host
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	sr.RemoteAddr = "192.0.2.1:1234"
	if req.URL.Scheme == "https" {
		sr.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: req.URL.Hostname()}
	}
	sr.Body = io.NopCloser(bytes.NewReader(body))
	sr.ContentLength = int64(len(body))
	sr.GetBody = nil

	w := &recorder{header: make(http.Header)}
	if aborted := serveRecovering(t.h, w, sr); aborted {
		return nil, errConnReset()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return w.response(req), nil
}

// serveRecovering runs h, reporting a panic with http.ErrAbortHandler.
func serveRecovering(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler { // compared by identity, as net/http does
				panic(p)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// recorder is the in-memory http.ResponseWriter.
type recorder struct {
	header  http.Header
	sent    http.Header // snapshot at WriteHeader
	status  int
	body    bytes.Buffer
	written bool
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.written || code < 200 {
		return
	}
	w.written, w.status = true, code
	w.sent = w.header.Clone()
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	if w.body.Len() == 0 && len(b) > 0 {
		if _, ok := w.sent["Content-Type"]; !ok {
			w.sent.Set("Content-Type", http.DetectContentType(b)) // sniffed at the first write, as net/http does
		}
	}
	return w.body.Write(b)
}

// Flush is a no-op: the response is delivered when the handler returns.
func (w *recorder) Flush() {}

func (w *recorder) response(req *http.Request) *http.Response {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	body := w.body.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}
	h := w.sent
	if _, ok := h["Content-Length"]; !ok && req.Method != http.MethodHead {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
