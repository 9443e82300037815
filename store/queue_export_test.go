package store

import "context"

// RespaceWindow is the first window (jobs on each side of a crowded spot)
// that a respacing rewrites, for the bounds the scale tests assert.
const RespaceWindow = respaceWindow

// MigrateUpTo applies the migrations up to version, for tests of one
// migration's effect on data written under the schema before it.
func (s *Store) MigrateUpTo(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
