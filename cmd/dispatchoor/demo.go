package main

import (
	"context"
	"fmt"
	"io"
)

// runDemo will start the GitHub simulator and the server on a temporary
// SQLite database. It arrives with the App-core issue (#4).
func runDemo(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stderr, "dispatchoor demo arrives with the App-core issue (#4): the simulator and dispatcher are not wired yet.")
	return exitError{code: 3}
}
