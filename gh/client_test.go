package gh_test

import (
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/gh"
)

func TestNewRefusesBadOptions(t *testing.T) {
	key := testKeyPEM(t)
	tests := []struct {
		name string
		opts gh.Options
		want string
	}{
		{"no app id", gh.Options{APIURL: "https://api.github.com/", PrivateKey: key}, "app id"},
		{"no key", gh.Options{APIURL: "https://api.github.com/", AppID: 1}, "private key is empty"},
		{"key is not PEM", gh.Options{APIURL: "https://api.github.com/", AppID: 1, PrivateKey: []byte("hunter2")}, "private key"},
		{"relative api url", gh.Options{APIURL: "api/v3", AppID: 1, PrivateKey: key}, "absolute"},
		{"ftp api url", gh.Options{APIURL: "ftp://ghe.example.com/api/v3/", AppID: 1, PrivateKey: key}, "absolute http(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gh.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	c, err := gh.New(gh.Options{APIURL: "https://ghe.example.com/api/v3", AppID: 1, PrivateKey: key})
	if err != nil || c.Host() != "ghe.example.com" || !gh.SupportsRunDetails(c) {
		t.Errorf("a GHES URL without trailing slash: %v, %v", c, err)
	}
}
