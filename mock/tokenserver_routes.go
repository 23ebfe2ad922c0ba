package mock

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

// maxRequestBody caps the request bodies the server reads.
const maxRequestBody = 1 << 20

// errStyle is the shape of a route's error answers.
type errStyle int

const (
	styleText errStyle = iota + 1 // POST /getToken: text/plain, like http.Error
	styleJSON                     // GET routes: {"error"|"message":…,"status":N}
	styleDocs                     // docs samples: {"code":"N","token":"<text>"}
)

// route dispatches r and returns the route name it counted.
func (s *TokenServer) route(w *statusWriter, r *http.Request) string {
	p := r.URL.Path
	if p == "/fetch_rtm_token" || p == "/fetch_rtc_token" {
		return s.routeDocs(w, r)
	}
	// agora-token-service: headers and the CORS check on every request.
	h := w.Header()
	h.Set("Cache-Control", "private, no-cache, no-store, must-revalidate")
	h.Set("Expires", "-1")
	h.Set("Pragma", "no-cache")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Origin, Content-Type")
	origin := r.Header.Get("Origin")
	allowed := s.originAllowed(origin)
	if allowed && origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if r.Method == http.MethodOptions {
		s.count("OPTIONS")
		if allowed {
			w.WriteHeader(http.StatusNoContent)
		} else {
			writeJSONBody(w, http.StatusForbidden, `{"error":"Origin not allowed"}`)
		}
		return "OPTIONS"
	}
	name, serve, style, redirect, code := s.match(r)
	if !allowed {
		if serve != nil {
			s.tokenRefused(name)
		} else {
			s.count(name)
		}
		writeJSONBody(w, http.StatusForbidden, `{"error":"Origin not allowed"}`)
		return name
	}
	switch {
	case redirect != "":
		s.count(name)
		writeRedirect(w, r, redirect, code)
	case serve != nil:
		s.serveToken(w, r, name, style, serve)
	case name == "GET /ping":
		s.count(name)
		writeJSONBody(w, http.StatusOK, `{"message":"pong"}`)
	default:
		s.count(name)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 page not found")
	}
	return name
}

// tokenHandler answers a token request; m are the token faults to apply.
type tokenHandler func(w http.ResponseWriter, r *http.Request, m tokenMods)

// match finds the agora-token-service route for r. A GET route without its
// trailing slash redirects (301) to the slashed path, POST /getToken/ to
// /getToken (307), as gin does.
func (s *TokenServer) match(r *http.Request) (name string, serve tokenHandler, style errStyle, redirect string, code int) {
	p, esc := r.URL.Path, r.URL.EscapedPath()
	if r.Method == http.MethodPost {
		switch p {
		case "/getToken":
			return "POST /getToken", s.postGetToken, styleText, "", 0
		case "/getToken/":
			return "redirect", nil, 0, strings.TrimSuffix(esc, "/"), http.StatusTemporaryRedirect
		}
		return "not found", nil, 0, "", 0
	}
	if r.Method != http.MethodGet {
		return "not found", nil, 0, "", 0
	}
	if p == "/ping" {
		return "GET /ping", nil, 0, "", 0
	}
	if p == "/ping/" {
		return "redirect", nil, 0, "/ping", http.StatusMovedPermanently
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	slashed := segs[len(segs)-1] == ""
	params := len(segs) - 1 // segments after the route's first one
	if slashed {
		params--
	}
	var ok bool
	switch segs[0] {
	case "rtm":
		name, serve, ok = "GET /rtm", s.getRTM, params == 1
	case "rtc":
		name, serve, ok = "GET /rtc", s.getRTC, params == 4
	case "rte":
		name, serve, ok = "GET /rte", s.getRTE, params == 4 || params == 5
	case "chat":
		name, serve = "GET /chat", s.getChat
		ok = (params == 1 && segs[1] == "app") || (params == 2 && segs[1] == "account")
	}
	switch {
	case !ok:
		return "not found", nil, 0, "", 0
	case !slashed:
		return "redirect", nil, 0, esc + "/", http.StatusMovedPermanently
	}
	return name, serve, styleJSON, "", 0
}

// writeRedirect answers like gin's trailing-slash redirect: Location keeps
// the query; GET answers carry a small HTML body.
func writeRedirect(w http.ResponseWriter, r *http.Request, target string, code int) {
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.WriteHeader(code)
	if r.Method == http.MethodGet {
		io.WriteString(w, "<a href=\""+html.EscapeString(target)+"\">"+http.StatusText(code)+"</a>.\n\n")
	}
}

// writeJSONBody writes a JSON body the way gin's c.JSON does.
func writeJSONBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// writeGinError writes {"<key>":msg,"status":400}, key "message" or "error"
// as the real server does for each failure.
func writeGinError(w http.ResponseWriter, key, msg string) {
	k, _ := json.Marshal(key)
	m, _ := json.Marshal(msg)
	writeJSONBody(w, http.StatusBadRequest, "{"+string(k)+":"+string(m)+",\"status\":400}")
}

// writeGinJSON writes a success map (keys sorted, as encoding/json does).
func writeGinJSON(w http.ResponseWriter, v map[string]string) {
	b, _ := json.Marshal(v)
	writeJSONBody(w, http.StatusOK, string(b))
}

func role(word string) accesstoken.Role {
	if word == "publisher" {
		return accesstoken.RolePublisher
	}
	return accesstoken.RoleSubscriber
}

// rtcWithData is the RTC service agora-token-service adds to an RTM token
// for a channel: join and publish data.
func rtcWithData(channel, account string, expire uint32) accesstoken.Service {
	return accesstoken.Service{Type: accesstoken.ServiceRTC, Channel: channel, Account: account,
		Privileges: []accesstoken.Privilege{{ID: accesstoken.PrivJoinChannel, Value: expire}, {ID: accesstoken.PrivPublishData, Value: expire}}}
}

func chatService(user string, expire uint32) accesstoken.Service {
	if user == "" {
		return accesstoken.Service{Type: accesstoken.ServiceChat, Privileges: []accesstoken.Privilege{{ID: 2, Value: expire}}}
	}
	return accesstoken.Service{Type: accesstoken.ServiceChat, UserID: user, Privileges: []accesstoken.Privilege{{ID: 1, Value: expire}}}
}

// postAccount is the uid field POST /getToken writes for an RTC uid string:
// a string that parses as uint64 becomes the numeric uint32(uid).
func postAccount(uid string) string {
	if n, err := strconv.ParseUint(uid, 10, 64); err == nil {
		return accesstoken.UIDAccount(uint32(n))
	}
	return uid
}

// postGetToken serves POST /getToken (agora-token-service v1.4.1+).
func (s *TokenServer) postGetToken(w http.ResponseWriter, r *http.Request, m tokenMods) {
	// The type name appears in decode errors, as on the real server.
	type TokenRequest struct {
		TokenType string `json:"tokenType"`
		Channel   string `json:"channel"`
		Role      string `json:"role"`
		UID       string `json:"uid"`
		Expire    int    `json:"expire"`
	}
	var req TokenRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	expire := uint32(req.Expire)
	if req.Expire == 0 {
		expire = s.ttlSeconds()
	}
	var svcs []accesstoken.Service
	switch req.TokenType {
	case "rtc":
		if req.Channel == "" {
			http.Error(w, "invalid: missing channel name", http.StatusBadRequest)
			return
		}
		if req.UID == "" {
			http.Error(w, "invalid: missing user ID or account", http.StatusBadRequest)
			return
		}
		svcs = append(svcs, accesstoken.RTCService(req.Channel, postAccount(req.UID), role(req.Role), expire))
	case "rtm":
		if req.UID == "" {
			http.Error(w, "invalid: missing user ID or account", http.StatusBadRequest)
			return
		}
		svcs = append(svcs, accesstoken.RTMService(req.UID, expire))
		if req.Channel != "" {
			svcs = append(svcs, rtcWithData(req.Channel, req.UID, expire))
		}
	case "chat":
		svcs = append(svcs, chatService(req.UID, expire))
	default:
		http.Error(w, "Unsupported tokenType", http.StatusBadRequest)
		return
	}
	tok, err := s.mint(m, expire, svcs...)
	if err != nil {
		http.Error(w, "check appId or appCertificate", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

// getExpiry reads ?expiry= (the first one): absent means the default,
// anything strconv.ParseUint rejects is an error; values wrap to 32 bits.
func (s *TokenServer) getExpiry(w http.ResponseWriter, r *http.Request, what string) (uint32, bool) {
	vs, ok := r.URL.Query()["expiry"]
	if !ok {
		return s.ttlSeconds(), true
	}
	n, err := strconv.ParseUint(vs[0], 10, 64)
	if err != nil {
		writeGinError(w, "message", "Error Generating "+what+" token: failed to parse expireTime: "+vs[0]+", causing error: "+err.Error())
		return 0, false
	}
	return uint32(n), true
}

// rtcAccount reads the :tokenType/:rtcuid pair of the GET RTC routes.
func rtcAccount(w http.ResponseWriter, tokenType, uid, what string) (string, bool) {
	switch tokenType {
	case "userAccount":
		return uid, true
	case "uid":
		if uid == "" {
			uid = "0"
		}
		n, err := strconv.ParseUint(uid, 10, 64)
		if err != nil {
			writeGinError(w, "error", "Error Generating "+what+" token - failed to parse uidStr: "+uid+", to uint causing error: "+err.Error())
			return "", false
		}
		return accesstoken.UIDAccount(uint32(n)), true
	}
	writeGinError(w, "error", "Error Generating "+what+" token - failed to generate RTC token for Unknown Tokentype: "+tokenType)
	return "", false
}

func segments(r *http.Request) []string {
	return strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
}

// getRTM serves GET /rtm/:rtmuid/.
func (s *TokenServer) getRTM(w http.ResponseWriter, r *http.Request, m tokenMods) {
	uid := segments(r)[1]
	expire, ok := s.getExpiry(w, r, "RTM")
	if !ok {
		return
	}
	if uid == "" || uid == "0" {
		writeGinError(w, "message", "Error Generating RTM token: invalid RTM User ID: "+strconv.Quote(uid))
		return
	}
	tok, err := s.mint(m, expire, accesstoken.RTMService(uid, expire))
	if err != nil {
		writeGinError(w, "error", "Error Generating RTM token: check appId or appCertificate")
		return
	}
	writeGinJSON(w, map[string]string{"rtmToken": tok})
}

// getRTC serves GET /rtc/:channelName/:role/:tokenType/:rtcuid/.
func (s *TokenServer) getRTC(w http.ResponseWriter, r *http.Request, m tokenMods) {
	seg := segments(r)
	expire, ok := s.getExpiry(w, r, "RTC")
	if !ok {
		return
	}
	account, ok := rtcAccount(w, seg[3], seg[4], "RTC")
	if !ok {
		return
	}
	tok, err := s.mint(m, expire, accesstoken.RTCService(seg[1], account, role(seg[2]), expire))
	if err != nil {
		writeGinError(w, "error", "Error Generating RTC token: check appId or appCertificate")
		return
	}
	writeGinJSON(w, map[string]string{"rtcToken": tok})
}

// getRTE serves GET /rte/:channelName/:role/:tokenType/:rtcuid/[:rtmuid/]:
// an RTC token and an RTM token that also carries RTC join + publish data.
func (s *TokenServer) getRTE(w http.ResponseWriter, r *http.Request, m tokenMods) {
	seg := segments(r)
	const what = "RTC and RTM"
	expire, ok := s.getExpiry(w, r, what)
	if !ok {
		return
	}
	rtmUID := seg[4]
	if len(seg) == 7 {
		rtmUID = seg[5]
	}
	if rtmUID == "" || rtmUID == "0" {
		writeGinError(w, "message", "Error Generating RTC and RTM token: failed to parse rtm user ID. Cannot be empty or \"0\"")
		return
	}
	account, ok := rtcAccount(w, seg[3], seg[4], what)
	if !ok {
		return
	}
	rtc, err := s.mint(m, expire, accesstoken.RTCService(seg[1], account, role(seg[2]), expire))
	var rtm string
	if err == nil {
		rtm, err = s.mint(m, expire, rtcWithData(seg[1], rtmUID, expire), accesstoken.RTMService(rtmUID, expire))
	}
	if err != nil {
		writeGinError(w, "error", "Error Generating RTC and RTM token: check appId or appCertificate")
		return
	}
	writeGinJSON(w, map[string]string{"rtcToken": rtc, "rtmToken": rtm})
}

// getChat serves GET /chat/app/ and GET /chat/account/:chatid/.
func (s *TokenServer) getChat(w http.ResponseWriter, r *http.Request, m tokenMods) {
	seg := segments(r)
	expire, ok := s.getExpiry(w, r, "Chat")
	if !ok {
		return
	}
	user := ""
	if seg[1] == "account" {
		user = seg[2]
	}
	tok, err := s.mint(m, expire, chatService(user, expire))
	if err != nil {
		writeGinError(w, "error", "Error Generating Chat token: check appId or appCertificate")
		return
	}
	writeGinJSON(w, map[string]string{"chatToken": tok})
}
