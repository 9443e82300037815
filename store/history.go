package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

var terminalStatuses = []core.JobStatus{core.StatusCompleted, core.StatusFailed, core.StatusCancelled}

// HistoryQuery selects a page of a group's finished jobs.
type HistoryQuery struct {
	GroupID string
	// Statuses keeps jobs in any of these terminal statuses; empty means all.
	Statuses []core.JobStatus
	// Labels keeps jobs carrying every key=value pair.
	Labels map[string]string
	Cursor string
	Limit  int // default 50, at most 500
}

// History returns a group's terminal jobs, newest first. Paging is keyed on
// (completed_at, id), so jobs finishing while someone pages appear before
// the first page and never shift later pages.
func (q *Q) History(ctx context.Context, hq HistoryQuery) (JobPage, error) {
	limit := pageLimit(hq.Limit, 50, 500)
	statuses := hq.Statuses
	if len(statuses) == 0 {
		statuses = terminalStatuses
	}
	query := "SELECT " + jobColumns + " FROM jobs WHERE group_id = ? AND status IN ("
	args := []any{hq.GroupID}
	for i, s := range statuses {
		if !s.Terminal() {
			return JobPage{}, fmt.Errorf("history filter: %q is not a terminal status: %w", s, ErrInvalid)
		}
		if i > 0 {
			query += ", "
		}
		query += "?"
		args = append(args, s)
	}
	query += ")"
	keys := make([]string, 0, len(hq.Labels))
	for k := range hq.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		query += " AND EXISTS (SELECT 1 FROM job_labels l WHERE l.job_id = jobs.id AND l.key = ? AND l.value = ?)"
		args = append(args, k, hq.Labels[k])
	}
	if hq.Cursor != "" {
		at, id, err := decodeHistoryCursor(hq.Cursor)
		if err != nil {
			return JobPage{}, err
		}
		query += " AND (completed_at < ? OR (completed_at = ? AND id < ?))"
		args = append(args, at, at, id)
	}
	query += " ORDER BY completed_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	jobs, err := q.selectJobs(ctx, query, args...)
	if err != nil {
		return JobPage{}, fmt.Errorf("history of %s: %w", hq.GroupID, err)
	}
	page := JobPage{Items: jobs}
	if len(jobs) > limit {
		page.Items = jobs[:limit]
		last := page.Items[limit-1]
		page.NextCursor = encodeHistoryCursor(*last.CompletedAt, last.ID)
	}
	return page, nil
}

// StatsBucket counts the jobs that ended in [Start, Start+bucket).
type StatsBucket struct {
	Start     time.Time `json:"start"`
	Completed int       `json:"completed"`
	Failed    int       `json:"failed"`
	Cancelled int       `json:"cancelled"`
}

// maxBuckets bounds a stats request so a tiny bucket over a long range cannot
// make the server build millions of buckets.
const maxBuckets = 10000

// HistoryStats counts a group's finished jobs per bucket from since until
// now; every bucket is present, empty ones with zeros. Bucketing happens here
// rather than in SQL because the two databases share no date arithmetic;
// only two narrow columns per job cross the wire.
func (q *Q) HistoryStats(ctx context.Context, groupID string, since time.Time, bucket time.Duration) ([]StatsBucket, error) {
	since = since.UTC()
	until := q.now()
	if bucket <= 0 {
		return nil, fmt.Errorf("history stats: bucket %s must be positive: %w", bucket, ErrInvalid)
	}
	if since.After(until) {
		return nil, fmt.Errorf("history stats: since %s is in the future: %w", since.Format(time.RFC3339), ErrInvalid)
	}
	n := int(until.Sub(since)/bucket) + 1
	if n > maxBuckets {
		return nil, fmt.Errorf("history stats: %d buckets of %s, at most %d: %w", n, bucket, maxBuckets, ErrInvalid)
	}
	out := make([]StatsBucket, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * bucket)
	}
	var rows []struct {
		CompletedAt time.Time `db:"completed_at"`
		Status      string    `db:"status"`
	}
	err := q.x.SelectContext(ctx, &rows, q.rebind(`
		SELECT completed_at, status FROM jobs
		WHERE group_id = ? AND status IN (?, ?, ?) AND completed_at >= ?`),
		groupID, core.StatusCompleted, core.StatusFailed, core.StatusCancelled, since)
	if err != nil {
		return nil, fmt.Errorf("history stats of %s: %w", groupID, err)
	}
	for _, r := range rows {
		i := int(r.CompletedAt.UTC().Sub(since) / bucket)
		if i < 0 || i >= n {
			continue
		}
		switch core.JobStatus(r.Status) {
		case core.StatusCompleted:
			out[i].Completed++
		case core.StatusFailed:
			out[i].Failed++
		case core.StatusCancelled:
			out[i].Cancelled++
		}
	}
	return out, nil
}

// DeleteHistoryBefore deletes terminal jobs that completed before t (their
// labels go with them) and returns how many jobs it deleted.
func (q *Q) DeleteHistoryBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.x.ExecContext(ctx, q.rebind("DELETE FROM jobs WHERE status IN (?, ?, ?) AND completed_at < ?"),
		core.StatusCompleted, core.StatusFailed, core.StatusCancelled, t.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete history before %s: %w", t.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete history before %s: %w", t.Format(time.RFC3339), err)
	}
	return n, nil
}

// Cursors are opaque to clients: base64 of a tagged, '|'-separated key.

type queueCursor struct {
	rank     int
	position float64
	id       int64
}

func (c queueCursor) encode() string {
	s := fmt.Sprintf("q|%d|%s|%d", c.rank, strconv.FormatFloat(c.position, 'g', -1, 64), c.id)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeQueueCursor(s string) (queueCursor, error) {
	parts, err := cursorParts(s, "q", 4)
	if err != nil {
		return queueCursor{}, err
	}
	var c queueCursor
	var e1, e2, e3 error
	c.rank, e1 = strconv.Atoi(parts[1])
	c.position, e2 = strconv.ParseFloat(parts[2], 64)
	c.id, e3 = strconv.ParseInt(parts[3], 10, 64)
	if errors.Join(e1, e2, e3) != nil || math.IsNaN(c.position) || math.IsInf(c.position, 0) {
		return queueCursor{}, fmt.Errorf("queue cursor: %w", ErrInvalid)
	}
	return c, nil
}

func encodeHistoryCursor(at time.Time, id int64) string {
	s := fmt.Sprintf("h|%s|%d", at.UTC().Format(time.RFC3339Nano), id)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeHistoryCursor(s string) (time.Time, int64, error) {
	parts, err := cursorParts(s, "h", 3)
	if err != nil {
		return time.Time{}, 0, err
	}
	at, e1 := time.Parse(time.RFC3339Nano, parts[1])
	id, e2 := strconv.ParseInt(parts[2], 10, 64)
	if errors.Join(e1, e2) != nil {
		return time.Time{}, 0, fmt.Errorf("history cursor: %w", ErrInvalid)
	}
	return at.UTC(), id, nil
}

func cursorParts(s, tag string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cursor is not valid base64: %w", ErrInvalid)
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != n || parts[0] != tag {
		return nil, fmt.Errorf("cursor is not a %s cursor: %w", map[string]string{"q": "queue", "h": "history"}[tag], ErrInvalid)
	}
	return parts, nil
}
