module github.com/tokenkeeper/tokenkeeper

go 1.25

require (
	github.com/benbjohnson/clock v1.3.5
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/hashicorp/go-retryablehttp v0.7.8
	go.uber.org/goleak v1.3.0
	golang.org/x/oauth2 v0.35.0
)

require github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
