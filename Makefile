# dispatchoor — the two commands a newcomer needs are `make demo` and `make test`.
# Everything else a target needs (PostgreSQL, npm corpora, staticcheck) it
# installs or starts itself.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin

GO        ?= go
BIN       := bin/dispatchoor
CONFIG    ?= config.yml
CACHE     := $(CURDIR)/.cache
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(CACHE)/bin/staticcheck
GO_PACKAGES := ./...

.PHONY: all build test test-go lint vet staticcheck demo migrate fuzz corpora clean help

all: build

help:
	@echo "make demo     - the whole product against the GitHub simulator (no GitHub account)"
	@echo "make test     - every test: lint, Go on SQLite and PostgreSQL (with -race), conformance"
	@echo "make build    - build $(BIN)"
	@echo "make lint     - go vet + staticcheck + gofmt check"
	@echo "make migrate  - apply migrations for CONFIG=$(CONFIG)"
	@echo "make fuzz     - run every fuzz target for FUZZTIME (default 20s each)"

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/dispatchoor

# make test: lint first (cheap, catches the most), then the Go suite against a
# private PostgreSQL that scripts/test.sh starts and stops itself.
test: lint test-go

test-go: corpora
	scripts/test.sh

corpora:
	@if [ -f internal/conformance/node/package.json ]; then \
		scripts/corpora.sh internal/conformance/node; \
	fi

lint: vet staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(GO_PACKAGES)

$(STATICCHECK):
	GOBIN=$(CACHE)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(GO_PACKAGES)

demo:
	$(GO) run ./cmd/dispatchoor demo

migrate:
	$(GO) run ./cmd/dispatchoor migrate --config $(CONFIG)

FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin $(CACHE)/pg
