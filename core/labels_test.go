package core

import (
	"slices"
	"testing"
)

func TestHasLabels(t *testing.T) {
	tests := []struct {
		name       string
		have, want []string
		ok         bool
	}{
		{"exact match", []string{"self-hosted", "gpu"}, []string{"self-hosted", "gpu"}, true},
		{"case differs", []string{"Self-Hosted", "GPU"}, []string{"self-hosted", "gpu"}, true},
		{"superset of labels serves", []string{"self-hosted", "gpu", "x64"}, []string{"gpu"}, true},
		{"order does not matter", []string{"b", "a"}, []string{"a", "b"}, true},
		{"empty want matches any runner", []string{"x"}, nil, true},
		{"empty want matches a runner without labels", nil, nil, true},
		{"one missing label refuses", []string{"self-hosted"}, []string{"self-hosted", "gpu"}, false},
		{"no labels at all", nil, []string{"self-hosted"}, false},
		{"prefix is not a match", []string{"gpu-large"}, []string{"gpu"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HasLabels(tc.have, tc.want); got != tc.ok {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestMissingLabels(t *testing.T) {
	got := MissingLabels([]string{"Self-Hosted", "linux"}, []string{"self-hosted", "GPU", "x64", "LINUX"})
	if want := []string{"GPU", "x64"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (want's spelling and order)", got, want)
	}
	if got := MissingLabels([]string{"a"}, []string{"A"}); len(got) != 0 {
		t.Fatalf("nothing missing, got %q", got)
	}
}

func TestNormalizeLabels(t *testing.T) {
	got := NormalizeLabels([]string{" Self-Hosted", "GPU", "gpu ", "", "  ", "x64"})
	if want := []string{"self-hosted", "gpu", "x64"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := NormalizeLabels(nil); got == nil || len(got) != 0 {
		t.Fatalf("nil input: want empty non-nil slice, got %#v", got)
	}
}

func TestUnservedLabels(t *testing.T) {
	tests := []struct {
		name    string
		want    []string
		runners [][]string
		missing []string
	}{
		{"a runner carries everything", []string{"self-hosted", "GPU"}, [][]string{{"self-hosted"}, {"self-hosted", "gpu"}}, nil},
		{"label nobody has is named", []string{"self-hosted", "gpu-xl"}, [][]string{{"self-hosted", "gpu"}, {"self-hosted"}}, []string{"gpu-xl"}},
		{"several labels nobody has", []string{"self-hosted", "arm64", "big"}, [][]string{{"self-hosted", "x64"}}, []string{"arm64", "big"}},
		{"labels split over runners names what the closest lacks", []string{"a", "b", "c"}, [][]string{{"a"}, {"a", "b"}, {"c"}}, []string{"c"}},
		{"group without runners cannot be judged", []string{"anything"}, nil, nil},
		{"empty runs-on is served by any runner", nil, [][]string{{"x"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnservedLabels(tc.want, tc.runners); !slices.Equal(got, tc.missing) {
				t.Fatalf("got %q, want %q", got, tc.missing)
			}
		})
	}
}

func BenchmarkHasLabels(b *testing.B) {
	have := []string{"self-hosted", "Linux", "X64", "sync-test", "hoodi", "large-disk"}
	want := []string{"self-hosted", "sync-test", "large-disk"}
	for b.Loop() {
		if !HasLabels(have, want) {
			b.Fatal("should match")
		}
	}
}
