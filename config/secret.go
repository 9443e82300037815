package config

// Secret is a string that never prints itself: fmt, zerolog (through
// json.Marshaler) and yaml all see "[redacted]", so logging a Config or one
// of its parts cannot leak a password, key or DSN. Value gives the real text.
type Secret string

const redacted = "[redacted]"

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// String hides the value; an empty secret prints as empty so "is it set?"
// stays visible in logs.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// MarshalJSON hides the value from JSON encoders (zerolog's Interface too).
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText hides the value from text encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML hides the value when a Config is written back as YAML.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }
