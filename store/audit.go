package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditEntry is one line of who did what.
type AuditEntry struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is a username, "token:<name>" or "github:<login>".
	Actor string `json:"actor"`
	// Action is e.g. enqueue, cancel, reorder, pause, unpause, login,
	// login_failed, logout, token_use, token_create, token_revoke.
	Action     string         `json:"action"`
	Target     string         `json:"target,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	ClientAddr string         `json:"client_addr,omitempty"`
}

// AuditQuery selects a page of the audit log, newest first. Actor and Action
// filter by exact match when set.
type AuditQuery struct {
	Cursor string
	Limit  int
	Actor  string
	Action string
}

// AuditPage is one page; NextCursor is empty on the last page.
type AuditPage struct {
	Items      []AuditEntry `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

const (
	auditDefaultLimit = 50
	auditMaxLimit     = 500
	auditCursorTag    = "audit:"
)

type auditRow struct {
	ID         int64     `db:"id"`
	At         time.Time `db:"at"`
	Actor      string    `db:"actor"`
	Action     string    `db:"action"`
	Target     string    `db:"target"`
	Details    string    `db:"details"`
	ClientAddr string    `db:"client_addr"`
}

// AppendAudit adds an entry, stamped with the store clock when At is zero,
// and returns its id.
func (q *Q) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	if e.Actor == "" || e.Action == "" {
		return 0, fmt.Errorf("append audit: actor and action are required: %w", ErrInvalid)
	}
	details := []byte("{}")
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return 0, fmt.Errorf("append audit %s by %s: details: %w", e.Action, e.Actor, err)
		}
		details = b
	}
	at := dbTime(e.At)
	if e.At.IsZero() {
		at = q.now()
	}
	// Actor and target can come from a client (a failed login's username):
	// bound their size and drop invalid UTF-8, which PostgreSQL would refuse,
	// so the attempt is still recorded.
	e.Actor, e.Target = clipText(e.Actor, 200), clipText(e.Target, 1000)
	e.Action, e.ClientAddr = clipText(e.Action, 100), clipText(e.ClientAddr, 100)
	var id int64
	err := q.x.GetContext(ctx, &id, q.rebind(`INSERT INTO audit_log (at, actor, action, target, details, client_addr)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), at, e.Actor, e.Action, e.Target, string(details), e.ClientAddr)
	if err != nil {
		return 0, fmt.Errorf("append audit %s by %s: %w", e.Action, e.Actor, err)
	}
	return id, nil
}

// ListAudit returns one page of entries, newest first. The cursor is opaque
// and holds the last id seen, so paging visits every entry once and entries
// appended meanwhile never shift later pages. (On PostgreSQL, an entry a
// concurrent transaction commits with an id below the cursor is not on later
// pages; it shows on the next fresh listing.)
func (q *Q) ListAudit(ctx context.Context, aq AuditQuery) (AuditPage, error) {
	limit := aq.Limit
	switch {
	case limit <= 0:
		limit = auditDefaultLimit
	case limit > auditMaxLimit:
		limit = auditMaxLimit
	}
	var (
		conds []string
		args  []any
	)
	if aq.Cursor != "" {
		before, err := decodeAuditCursor(aq.Cursor)
		if err != nil {
			return AuditPage{}, err
		}
		conds, args = append(conds, "id < ?"), append(args, before)
	}
	if aq.Actor != "" {
		conds, args = append(conds, "actor = ?"), append(args, aq.Actor)
	}
	if aq.Action != "" {
		conds, args = append(conds, "action = ?"), append(args, aq.Action)
	}
	query := `SELECT id, at, actor, action, target, details, client_addr FROM audit_log`
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY id DESC LIMIT " + strconv.Itoa(limit+1)
	var rows []auditRow
	if err := q.x.SelectContext(ctx, &rows, q.rebind(query), args...); err != nil {
		return AuditPage{}, fmt.Errorf("list audit: %w", err)
	}
	page := AuditPage{Items: make([]AuditEntry, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			page.NextCursor = encodeAuditCursor(rows[i-1].ID)
			break
		}
		e := AuditEntry{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Target: r.Target, ClientAddr: r.ClientAddr}
		if r.Details != "" && r.Details != "{}" {
			if err := json.Unmarshal([]byte(r.Details), &e.Details); err != nil {
				return AuditPage{}, fmt.Errorf("audit entry %d: details: %w", r.ID, err)
			}
		}
		page.Items = append(page.Items, e)
	}
	return page, nil
}

func encodeAuditCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(auditCursorTag + strconv.FormatInt(id, 10)))
}

func decodeAuditCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("audit cursor is not valid base64: %w", ErrInvalid)
	}
	rest, ok := strings.CutPrefix(string(b), auditCursorTag)
	if !ok {
		return 0, fmt.Errorf("cursor is not an audit cursor: %w", ErrInvalid)
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("audit cursor holds no valid position: %w", ErrInvalid)
	}
	return id, nil
}
