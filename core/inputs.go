package core

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// GitHub's documented limits on a workflow_dispatch's inputs ("The maximum
// number of top-level properties for inputs is 25. The maximum payload for
// inputs is 65,535 characters."). GitHub Enterprise Server 3.19 and older
// allow 10 properties. A job over them would only fail at dispatch, minutes
// or hours after it was enqueued, so the queue refuses it at once.
const (
	MaxDispatchInputs      = 25
	MaxDispatchInputsChars = 65535
)

// CheckDispatchInputs says why GitHub would refuse these inputs, or nil.
// maxInputs is the property limit of the GitHub in use (MaxDispatchInputs
// when zero).
func CheckDispatchInputs(inputs map[string]string, maxInputs int) error {
	if maxInputs <= 0 {
		maxInputs = MaxDispatchInputs
	}
	if len(inputs) > maxInputs {
		return fmt.Errorf("%d inputs; GitHub accepts at most %d for a workflow_dispatch", len(inputs), maxInputs)
	}
	b, err := json.Marshal(inputs)
	if err != nil {
		return fmt.Errorf("encode inputs: %w", err)
	}
	if n := utf8.RuneCount(b); n > MaxDispatchInputsChars {
		return fmt.Errorf("inputs are %d characters as JSON; GitHub accepts at most %d", n, MaxDispatchInputsChars)
	}
	return nil
}
