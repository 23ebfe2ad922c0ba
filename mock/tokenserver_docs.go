package mock

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

// docsExpireRTC is the docs RTC sample's hard-coded lifetime.
const docsExpireRTC = 40

// routeDocs serves the documentation sample servers' routes.
func (s *TokenServer) routeDocs(w *statusWriter, r *http.Request) string {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		s.count("OPTIONS")
		w.WriteHeader(http.StatusOK)
		return "OPTIONS"
	case http.MethodPost:
	default:
		s.count("not found")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Unsupported method. Please check.")
		return "not found"
	}
	name := "POST " + r.URL.Path
	serve := s.docsRTM
	if r.URL.Path == "/fetch_rtc_token" {
		serve = s.docsRTC
	}
	s.serveToken(w, r, name, styleDocs, serve)
	return name
}

func writeDocs(w http.ResponseWriter, status int, token string) {
	b, _ := json.Marshal(map[string]string{"code": strconv.Itoa(status), "token": token})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// docsBadRequest is the sample servers' text for an undecodable body.
func docsBadRequest(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return "Bad request. Wrong type provided for field " + typeErr.Value + ": " + typeErr.Field
	case errors.As(err, &syntaxErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "Bad request."
	}
	return "Bad request. Please check your params."
}

// docsRTM serves POST /fetch_rtm_token. Like the sample, it passes now+3600
// (an absolute time) where the builder expects a lifetime, so the token
// lives about 55 years.
func (s *TokenServer) docsRTM(w http.ResponseWriter, r *http.Request, m tokenMods) {
	var req struct {
		UID string `json:"uid"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody)).Decode(&req); err != nil {
		writeDocs(w, http.StatusBadRequest, docsBadRequest(err))
		return
	}
	expire := uint32(s.clock.Now().Unix()) + 3600
	tok, err := s.mint(m, expire, accesstoken.RTMService(req.UID, expire))
	if err != nil {
		writeDocs(w, http.StatusInternalServerError, "Failed to generate token.")
		return
	}
	writeDocs(w, http.StatusOK, tok)
}

// docsRTC serves POST /fetch_rtc_token: a numeric uid, "ChannelName"
// (matched case-insensitively) and role 1 or 2; other roles keep the
// previous request's role, like the sample's global variable. Tokens live
// 40 s.
func (s *TokenServer) docsRTC(w http.ResponseWriter, r *http.Request, m tokenMods) {
	var req struct {
		UID         uint32 `json:"uid"`
		ChannelName string `json:"ChannelName"`
		Role        int    `json:"role"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody)).Decode(&req); err != nil {
		writeDocs(w, http.StatusBadRequest, docsBadRequest(err))
		return
	}
	s.mu.Lock()
	if req.Role == 1 || req.Role == 2 {
		s.docsRole = req.Role
	}
	rl := accesstoken.Role(s.docsRole)
	s.mu.Unlock()
	tok, err := s.mint(m, docsExpireRTC, accesstoken.RTCService(req.ChannelName, accesstoken.UIDAccount(req.UID), rl, docsExpireRTC))
	if err != nil {
		writeDocs(w, http.StatusInternalServerError, "Failed to generate token.")
		return
	}
	writeDocs(w, http.StatusOK, tok)
}
