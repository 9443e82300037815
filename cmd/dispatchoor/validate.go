package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ethpandaops/dispatchoor/config"
)

// runValidate prints every problem of a config file, one per line with
// file:line:col, and exits 1 when there is any.
func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("validate", stderr, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(ctx, c.config, config.NewLoadOptions())
	var problems config.Problems
	switch {
	case errors.As(err, &problems):
		fmt.Fprintln(stderr, problems.Error())
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", c.config, len(problems))
		return exitError{code: 1}
	case err != nil:
		fmt.Fprintln(stderr, "dispatchoor validate:", err)
		return exitError{code: 1}
	}
	groups, templates := cfg.Groups()
	fmt.Fprintf(stdout, "%s: ok (%d groups, %d templates)\n", c.config, len(groups), len(templates))
	return nil
}
