package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sort"

	"github.com/wxauth/scf-auth/pkg/apierror"
)

// Fields are the top-level members of a request body, each still raw JSON.
// The accessors check types strictly: a number is not a string, null is not
// a value, and nothing is converted.
type Fields map[string]json.RawMessage

// parseObject parses a JSON object, refusing anything else, duplicate keys
// and trailing data, so that no two readers of a body can disagree about it.
func parseObject(data []byte) (Fields, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, apierror.BadBody("body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, apierror.BadBody("body must be a JSON object")
	}
	f := Fields{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, apierror.BadBody("body is not valid JSON")
		}
		key := tok.(string) // inside an object, the decoder only yields string keys
		if _, dup := f[key]; dup {
			return nil, apierror.BadField(key, "appears more than once")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, apierror.BadBody("body is not valid JSON")
		}
		f[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, apierror.BadBody("body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apierror.BadBody("body has data after the JSON object")
	}
	return f, nil
}

// Only fails with INVALID_REQUEST naming the first field, in sorted order,
// that is not in allowed.
func (f Fields) Only(allowed ...string) error {
	for _, name := range f.sortedNames() {
		if !slices.Contains(allowed, name) {
			return apierror.BadField(name, "is not allowed")
		}
	}
	return nil
}

// Has reports whether the body has the field, null included.
func (f Fields) Has(name string) bool {
	_, ok := f[name]
	return ok
}

// IsNull reports whether the field is present and null.
func (f Fields) IsNull(name string) bool {
	return bytes.Equal(f[name], []byte("null"))
}

// String returns the field as a string; present is false when it is absent.
func (f Fields) String(name string) (value string, present bool, err error) {
	raw, ok := f[name]
	if !ok {
		return "", false, nil
	}
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &value) != nil {
		return "", true, apierror.BadField(name, "must be a string")
	}
	return value, true, nil
}

// RequiredString returns the field as a non-empty string.
func (f Fields) RequiredString(name string) (string, error) {
	v, present, err := f.String(name)
	switch {
	case err != nil:
		return "", err
	case !present:
		return "", apierror.BadField(name, "is required")
	case v == "":
		return "", apierror.BadField(name, "must not be empty")
	}
	return v, nil
}

// Bool returns the field as a boolean; present is false when it is absent.
func (f Fields) Bool(name string) (value, present bool, err error) {
	raw, ok := f[name]
	if !ok {
		return false, false, nil
	}
	switch string(raw) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, apierror.BadField(name, "must be true or false")
}

// Int returns the field as a whole number; present is false when absent.
func (f Fields) Int(name string) (value int, present bool, err error) {
	raw, ok := f[name]
	if !ok {
		return 0, false, nil
	}
	var n json.Number
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) || json.Unmarshal(raw, &n) != nil {
		return 0, true, apierror.BadField(name, "must be a whole number")
	}
	i, err := n.Int64()
	if err != nil || i != int64(int(i)) {
		return 0, true, apierror.BadField(name, "must be a whole number")
	}
	return int(i), true, nil
}

func (f Fields) sortedNames() []string {
	names := make([]string, 0, len(f))
	for name := range f {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
