package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestAuditPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		actors := []string{"admin", "token:ci", "github:octocat"}
		actions := []string{"enqueue", "cancel", "login", "token_use"}
		const total = 37
		var all []int64
		for i := range total {
			clk.Advance(time.Second)
			id, err := s.AppendAudit(ctx, store.AuditEntry{
				Actor: actors[i%len(actors)], Action: actions[i%len(actions)], Target: fmt.Sprintf("job:%d", i),
				Details: map[string]any{"i": i}, ClientAddr: "10.0.0.1",
			})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, id)
		}

		cases := []struct {
			name          string
			query         store.AuditQuery
			interleave    bool // append an entry between pages
			wantFromIndex func(i int) bool
		}{
			{name: "every entry once, newest first", query: store.AuditQuery{Limit: 5}, wantFromIndex: func(int) bool { return true }},
			{name: "filtered by actor", query: store.AuditQuery{Limit: 4, Actor: "token:ci"}, wantFromIndex: func(i int) bool { return i%3 == 1 }},
			{name: "filtered by actor and action", query: store.AuditQuery{Limit: 2, Actor: "admin", Action: "login"}, wantFromIndex: func(i int) bool { return i%3 == 0 && i%4 == 2 }},
			{name: "page size equal to the total ends cleanly", query: store.AuditQuery{Limit: total}, wantFromIndex: func(int) bool { return true }},
			{name: "entries appended while paging do not repeat old ones", query: store.AuditQuery{Limit: 6, Actor: "admin"}, interleave: true, wantFromIndex: func(i int) bool { return i%3 == 0 }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var want []int64
				for i := len(all) - 1; i >= 0; i-- {
					if tc.wantFromIndex(i) {
						want = append(want, all[i])
					}
				}
				var got []int64
				q := tc.query
				for pages := 0; ; pages++ {
					if pages > total+1 {
						t.Fatal("paging does not end")
					}
					page, err := s.ListAudit(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Items) > q.Limit {
						t.Fatalf("page of %d items, limit %d", len(page.Items), q.Limit)
					}
					for _, e := range page.Items {
						if (q.Actor != "" && e.Actor != q.Actor) || (q.Action != "" && e.Action != q.Action) {
							t.Fatalf("entry %+v does not match the filter", e)
						}
						got = append(got, e.ID)
					}
					if page.NextCursor == "" {
						break
					}
					if tc.interleave {
						if _, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "admin", Action: "pause"}); err != nil {
							t.Fatal(err)
						}
					}
					q.Cursor = page.NextCursor
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("visited %v, want %v", got, want)
				}
			})
		}
	})
}

func TestAuditEntryRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		if _, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "admin", Action: "reorder", Target: "group:sync", Details: map[string]any{"job_ids": []int{3, 1}}, ClientAddr: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		// A failed login records what the client typed, even if it is not UTF-8.
		if _, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "ad\xffmin", Action: "login_failed"}); err != nil {
			t.Fatalf("audit of a non-UTF-8 username: %v", err)
		}
		page, err := s.ListAudit(ctx, store.AuditQuery{})
		if err != nil || len(page.Items) != 2 || page.NextCursor != "" {
			t.Fatalf("page = %+v %v", page, err)
		}
		if got := page.Items[0]; got.Actor != "admin" || got.Action != "login_failed" {
			t.Fatalf("newest = %+v, want the sanitised login_failed", got)
		}
		e := page.Items[1]
		if e.Target != "group:sync" || e.ClientAddr != "192.0.2.1" || !e.At.Equal(clk.Now()) || fmt.Sprint(e.Details["job_ids"]) != "[3 1]" {
			t.Fatalf("entry = %+v", e)
		}
	})
}

func TestAuditRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for name, cursor := range map[string]string{
			"not base64":          "!!!",
			"another kind":        base64.RawURLEncoding.EncodeToString([]byte("h:1:2")),
			"no position":         base64.RawURLEncoding.EncodeToString([]byte("audit:")),
			"negative position":   base64.RawURLEncoding.EncodeToString([]byte("audit:-4")),
			"position not number": base64.RawURLEncoding.EncodeToString([]byte("audit:1; DROP TABLE audit_log")),
		} {
			if _, err := s.ListAudit(ctx, store.AuditQuery{Cursor: cursor}); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("cursor %s: %v, want ErrInvalid", name, err)
			}
		}
		if _, err := s.AppendAudit(ctx, store.AuditEntry{Action: "enqueue"}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("entry without actor: %v, want ErrInvalid", err)
		}
	})
}
