package mock_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

func TestHandlerTransportServerView(t *testing.T) {
	var got *http.Request
	var gotBody string
	rt := mock.NewHandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Answer", "42")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "<p>hello</p>")
		w.Header().Set("X-Late", "ignored") // after WriteHeader: not sent
	}))
	req, _ := http.NewRequest("POST", "https://svc.example:8443/a%20b/c?x=1&y=2", strings.NewReader("payload"))
	req.Header.Set("Origin", "https://o.example")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got.Method != "POST" || got.URL.Path != "/a b/c" || got.URL.RawQuery != "x=1&y=2" || got.RequestURI != "/a%20b/c?x=1&y=2" ||
		got.Host != "svc.example:8443" || got.TLS == nil || got.Header.Get("Origin") != "https://o.example" || gotBody != "payload" ||
		got.RemoteAddr == "" {
		t.Errorf("server saw %+v body %q", got, gotBody)
	}
	if resp.StatusCode != 201 || resp.Status != "201 Created" || string(body) != "<p>hello</p>" || resp.Request != req ||
		resp.Header.Get("X-Answer") != "42" || resp.Header.Get("X-Late") != "" || resp.ContentLength != 12 {
		t.Errorf("response %+v body %q", resp, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("sniffed Content-Type %q", ct)
	}
}

func TestHandlerTransportDefaultsAndHEAD(t *testing.T) {
	rt := mock.NewHandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "HEAD" {
			io.WriteString(w, "dropped for HEAD")
		}
	}))
	for _, m := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(m, "http://h.example/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || len(b) != 0 {
			t.Errorf("%s: %d %q", m, resp.StatusCode, b)
		}
	}
}

func TestHandlerTransportAbortIsReset(t *testing.T) {
	rt := mock.NewHandlerTransport(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	req, _ := http.NewRequest("GET", "http://h.example/", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("error %v, want ECONNRESET", err)
	}
	boom := mock.NewHandlerTransport(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want the handler's panic", p)
		}
	}()
	boom.RoundTrip(req)
}

func TestHandlerTransportContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		called := 0
		rt := mock.NewHandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called++
			select {
			case <-r.Context().Done():
			case <-time.After(time.Hour):
			}
			io.WriteString(w, "late")
		}))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://h.example/", nil)
		if _, err := rt.RoundTrip(req); !errors.Is(err, context.Canceled) || called != 0 {
			t.Errorf("cancelled before: %v, handler called %d times", err, called)
		}
		ctx, cancel = context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		req, _ = http.NewRequestWithContext(ctx, "GET", "http://h.example/", nil)
		start := time.Now()
		if _, err := rt.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Errorf("deadline during handler: %v after %v", err, time.Since(start))
		}
	})
}

func TestHandlerTransportRequestBodyCap(t *testing.T) {
	rt := mock.NewHandlerTransport(http.NotFoundHandler())
	req, _ := http.NewRequest("POST", "http://h.example/", strings.NewReader(strings.Repeat("x", 1<<20+1)))
	if _, err := rt.RoundTrip(req); err == nil {
		t.Errorf("oversized body accepted")
	}
}
