package config

import (
	"errors"
	"net/url"
	"strings"
)

// urlRedacted stands where a secret of a URL was (brackets would be escaped).
const urlRedacted = "REDACTED"

// RedactURL returns raw fit to be shown or logged: the password of its
// userinfo (the user name too, since tokens are often put there) and the
// value of every query parameter are replaced by REDACTED. Template URLs
// often carry a token this way (https://TOKEN@host/... or ?token=...), put
// there through ${VAR}; readonly users and logs must not see it. A string
// that does not parse as a URL is shown only up to its first '@', '?' or '#'.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "@?#"); i >= 0 {
			return raw[:i] + "…" + urlRedacted
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User(urlRedacted)
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{urlRedacted}
		}
		u.RawQuery = q.Encode()
	}
	if u.Fragment != "" {
		u.Fragment = urlRedacted
	}
	return u.String()
}

// redactURLError rewrites the URL net/http puts into its errors (it hides a
// password but keeps the user name and the query).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		clean := *ue
		clean.URL = RedactURL(ue.URL)
		return &clean
	}
	return err
}
