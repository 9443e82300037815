package store

// RespaceWindow is the first window (jobs on each side of a crowded spot)
// that a respacing rewrites, for the bounds the scale tests assert.
const RespaceWindow = respaceWindow
