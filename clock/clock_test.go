package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	t.Parallel()
	t.Run("waits the whole duration when ctx stays alive", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		if err := Sleep(context.Background(), 20*time.Millisecond); err != nil {
			t.Fatalf("Sleep: %v", err)
		}
		if waited := time.Since(start); waited < 20*time.Millisecond {
			t.Fatalf("Sleep returned after %v, before its 20ms", waited)
		}
	})
	t.Run("returns ctx's error as soon as ctx ends", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Real{}.Sleep(ctx, time.Hour) }()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Sleep after cancel = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Sleep did not return after its context was cancelled")
		}
	})
	t.Run("an already ended ctx returns at once", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 0)
		defer cancel()
		if err := Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Sleep = %v, want context.DeadlineExceeded", err)
		}
	})
}
