package core

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckDispatchInputs(t *testing.T) {
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	for _, tt := range []struct {
		name   string
		inputs map[string]string
		max    int
		want   string
	}{
		{"no inputs", nil, 0, ""},
		{"25 inputs are accepted", many(25), 0, ""},
		{"26 inputs are refused", many(26), 0, "26 inputs; GitHub accepts at most 25"},
		{"an older GHES allows 10", many(11), 10, "11 inputs; GitHub accepts at most 10"},
		{"a payload at the limit is accepted", map[string]string{"k": strings.Repeat("x", MaxDispatchInputsChars-len(`{"k":""}`))}, 0, ""},
		{"one character more is refused", map[string]string{"k": strings.Repeat("x", MaxDispatchInputsChars-len(`{"k":""}`)+1)}, 0, "65536 characters as JSON"},
		{"characters, not bytes, are counted", map[string]string{"k": strings.Repeat("é", MaxDispatchInputsChars-len(`{"k":""}`))}, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDispatchInputs(tt.inputs, tt.max)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}
