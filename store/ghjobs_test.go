package store_test

import (
	"context"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
)

func ghJob(id int64, st store.GitHubJobStatus) store.GitHubJob {
	return store.GitHubJob{ID: id, RunID: 1000 + id, Repo: "acme/app", Status: st}
}
