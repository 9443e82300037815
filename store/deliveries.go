package store

import (
	"context"
	"fmt"
	"time"
)

// RecordDelivery remembers a webhook delivery by its X-GitHub-Delivery id and
// returns ErrDuplicate when the id was recorded before. GitHub redelivers on
// request and the reconciler's sweeper redelivers failed ones, so the same id
// can arrive twice, even at two replicas at once: the primary key plus
// ON CONFLICT DO NOTHING lets exactly one insert win on both databases (on
// PostgreSQL the loser waits for the winner's transaction and then sees the
// row). Record inside the transaction that applies the delivery: if applying
// fails, the record rolls back with it and a redelivery is applied again.
func (q *Q) RecordDelivery(ctx context.Context, deliveryID, event, action string) error {
	if deliveryID == "" || len(deliveryID) > 200 {
		return fmt.Errorf("record delivery: id of %d bytes, want 1-200: %w", len(deliveryID), ErrInvalid)
	}
	if event == "" {
		return fmt.Errorf("record delivery %s: event is empty: %w", deliveryID, ErrInvalid)
	}
	res, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO webhook_deliveries (id, event, action, received_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`), deliveryID, event, action, q.now())
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", deliveryID, err)
	}
	n, err := affected(res, "record delivery")
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("delivery %s (%s): %w", deliveryID, event, ErrDuplicate)
	}
	return nil
}

// DeleteDeliveriesBefore forgets deliveries received before t. GitHub only
// redelivers recent deliveries, so old ids need not be kept.
func (q *Q) DeleteDeliveriesBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM webhook_deliveries WHERE received_at < ?`), dbTime(t))
	if err != nil {
		return 0, fmt.Errorf("delete deliveries before %s: %w", t.Format(time.RFC3339), err)
	}
	return affected(res, "delete deliveries")
}
