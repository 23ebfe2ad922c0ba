package mock

import (
	"math"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

// tokenMods are the token faults applied while minting.
type tokenMods struct {
	wrongUser, wrongApp, wrongChannel, expired bool
}

// ttlSeconds is the default lifetime in seconds.
func (s *TokenServer) ttlSeconds() uint32 {
	return uint32(min(int64(s.ttl.Seconds()), math.MaxUint32))
}

// salt draws a salt in the Go builder's range [1, 99999998].
func (s *TokenServer) salt() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return 1 + s.rng.Uint32N(99999998)
}

// otherAppID returns a valid app ID that differs from id.
func otherAppID(id string) string {
	if id == "" {
		return DefaultAppID
	}
	c := byte('f')
	if id[0] == 'f' {
		c = 'e'
	}
	return string(c) + id[1:]
}

// mint builds a token issued now on the server's clock, with m applied.
func (s *TokenServer) mint(m tokenMods, expire uint32, svcs ...accesstoken.Service) (string, error) {
	now := max(min(s.clock.Now().Unix(), math.MaxUint32), 0)
	issue := uint32(now)
	app := s.appID
	if m.wrongApp {
		app = otherAppID(app)
	}
	for i := range svcs {
		sv := &svcs[i]
		if m.wrongUser {
			switch sv.Type {
			case accesstoken.ServiceRTM, accesstoken.ServiceChat:
				sv.UserID += "-imposter"
			case accesstoken.ServiceRTC:
				sv.Account += "-imposter"
			}
		}
		if m.wrongChannel && sv.Type == accesstoken.ServiceRTC {
			sv.Channel += "-other"
		}
	}
	if m.expired {
		if now >= int64(expire)+60 {
			issue = uint32(now - int64(expire) - 60) // expired a minute ago
		} else {
			issue, expire = 0, 0
			for i := range svcs {
				for j := range svcs[i].Privileges {
					svcs[i].Privileges[j].Value = 0
				}
			}
		}
	}
	return accesstoken.Build(accesstoken.Params{
		AppID: app, Certificate: s.cert, IssueTs: issue, Expire: expire, Salt: s.salt(), Services: svcs,
	})
}
