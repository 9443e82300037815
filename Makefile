# dispatchoor — the two commands a newcomer needs are `make demo` and `make test`.
# Everything a target needs (PostgreSQL, npm packages, Debian's Chromium,
# staticcheck) it installs or starts itself.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin

GO        ?= go
BIN       := bin/dispatchoor
CONFIG    ?= config.yml
CACHE     := $(CURDIR)/.cache
STATICCHECK_VERSION := v0.8.2
# Tools built from source are kept per machine, outside the checkout, so a
# fresh clone (and CI) does not build them again.
TOOLS_BIN ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/dispatchoor-tools/bin
export TOOLS_BIN
STATICCHECK := $(TOOLS_BIN)/staticcheck-$(STATICCHECK_VERSION)/staticcheck
UI        := ui
CORPORA   := tools/conformance/node

.PHONY: all build ui ui-deps test test-go test-ui test-e2e lint vet staticcheck deps tidy \
	demo migrate fuzz bench bench-full corpora chromium clean help \
	release image deploy-deps deploy-test

all: build

help:
	@echo "make demo     - the whole product against the GitHub simulator (no GitHub account)"
	@echo "make test     - every test: lint, Go (-race) on SQLite and PostgreSQL, conformance, UI unit, browser e2e, deploy proofs"
	@echo "make release  - static linux/amd64 + arm64 binaries and SHA256SUMS in bin/release"
	@echo "make image    - the FROM-scratch container image (podman)"
	@echo "make build    - build the dashboard, then $(BIN) with it embedded"
	@echo "make lint     - go vet + staticcheck + gofmt + go mod tidy + binary-deps check + TypeScript check"
	@echo "make migrate  - apply migrations for CONFIG=$(CONFIG)"
	@echo "make fuzz     - run every fuzz target for FUZZTIME (default 20s each)"
	@echo "make bench    - the benchmark scenarios, short mode (bench-full: the full run)"

# --- build -------------------------------------------------------------------

ui-deps:
	scripts/npm-ci.sh $(UI)

# The Go build never depends on a committed dist: the dashboard is embedded
# only with the embedui tag, after this target built it.
ui: ui-deps
	cd $(UI) && npm run build

build: ui
	$(GO) build -trimpath -tags embedui -o $(BIN) ./cmd/dispatchoor

demo: ui
	$(GO) run -tags embedui ./cmd/dispatchoor demo

migrate:
	$(GO) run ./cmd/dispatchoor migrate --config $(CONFIG)

# --- release and deployment (deploy/, docs/DEPLOY.md) ------------------------

RELEASE := bin/release
IMAGE   ?= localhost/dispatchoor:dev

deploy-deps:
	deploy/test/apt.sh

# Static linux/amd64 and linux/arm64 binaries with the dashboard, SHA256SUMS.
release: ui deploy-deps
	deploy/release.sh $(RELEASE)

# The FROM-scratch image from the amd64 release binary (podman or buildah).
image: release
	deploy/image.sh $(RELEASE) $(IMAGE)

# Every proof of issue 13 that this machine can run; see docs/DEPLOY.md.
deploy-test: image
	deploy/test/run.sh $(RELEASE) $(IMAGE)

# --- tests -------------------------------------------------------------------

test: lint test-go test-ui test-e2e deploy-test

corpora:
	scripts/npm-ci.sh $(CORPORA)

# Go tests with -race against SQLite and a private PostgreSQL that
# scripts/test.sh starts and stops itself.
test-go: corpora
	scripts/test.sh

test-ui: ui-deps
	cd $(UI) && npm test

chromium:
	scripts/chromium.sh

# Playwright drives Debian's Chromium against the real binary running the demo.
test-e2e: build chromium
	cd $(UI) && DISPATCHOOR_BIN=$(CURDIR)/$(BIN) npm run e2e

lint: vet staticcheck deps tidy ui-deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	cd $(UI) && npm run lint

vet:
	$(GO) vet ./...

# go.mod must be tidy: every directly imported module a direct requirement.
tidy:
	$(GO) mod tidy -diff

# No test code (testing, httptest, fstest) and no tooling other than the
# simulator, the demo world and its config builder may reach the binary.
deps:
	scripts/check-deps.sh

$(STATICCHECK):
	GOBIN=$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

FUZZTIME ?= 20s
fuzz: corpora
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# --- benchmarks ----------------------------------------------------------------

bench:
	$(GO) run ./tools/bench -scenario all -short

bench-full:
	$(GO) run ./tools/bench -scenario all

clean:
	rm -rf bin $(CACHE) $(UI)/dist
