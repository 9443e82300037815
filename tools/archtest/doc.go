// Package archtest holds the code to the map in docs/ARCHITECTURE.md: its
// test reads the dependency table there ("Dependency rules") and the module's
// import graph from `go list -deps -json ./...`, and fails when a package
// imports one of ours that its row does not allow, when a package has no
// row, or when a row names a package that no longer exists. (That no test
// support reaches the shipped binary is make lint's scripts/check-deps.sh.)
//
// It is a test-only package: nothing imports it, and it imports nothing of
// this module.
package archtest
