# Maria — one binary, one Go workspace (go.work). `make run` and `make test` are all a
# newcomer needs; both work on a fresh machine with Go and Node installed.
SHELL := /bin/bash
GO ?= go
MODULES := schemas bus ingress egress processors cmd/maria tests tests/sim tests/bench/compare tests/deploy
PKGS := $(addsuffix /...,$(addprefix ./,$(MODULES)))
TOOLS := $(CURDIR)/.tools
export PATH := $(TOOLS)/bin:$(TOOLS)/node/node_modules/.bin:$(PATH)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
TEST_TIMEOUT ?= 15m
FUZZTIME ?= 10s

.PHONY: fuzz all build run demo test test-short lint fmt bench bench-compare deps tools clean schemas chaos

all: build

build: ## build bin/maria
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/maria ./cmd/maria

run: build ## every service on the embedded JetStream: `maria run` with Slack credentials, else the offline `maria demo`
	@if [ -z "$$SLACK_BOT_TOKEN" ] && [ -z "$$SLACK_SIGNING_SECRET" ] && [ -z "$$SLACK_APP_TOKEN" ]; then \
		echo "No Slack credentials (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET / SLACK_APP_TOKEN): running the offline demo."; \
		./bin/maria demo; \
	else \
		./bin/maria run; \
	fi

demo: build ## the offline demo: scripted conversation through every service, then a prompt
	./bin/maria demo

# Fuzz targets run briefly on every `make test` (no panics on hostile input).
FUZZ_TARGETS := ./ingress:FuzzNormalize ./schemas:FuzzDecode ./processors/erp:FuzzValidateDomain

test: deps ## every module's tests with the race detector, then a short fuzz smoke
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(MAKE) --no-print-directory fuzz

# Go's fuzz coordinator sometimes ends a run with "context deadline exceeded"
# when a worker is slow to stop at -fuzztime on a loaded machine: no input
# failed and nothing is written to testdata. Only that case is retried once;
# a real failure ("Failing input written") fails at once.
fuzz: ## run each fuzz target for FUZZTIME
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
	  log=$$(mktemp); \
	  $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg 2>&1 | tee $$log; st=$${PIPESTATUS[0]}; \
	  if [ $$st -ne 0 ]; then \
	    if grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
	      echo "fuzz $$fn: the coordinator timed out stopping (no failing input); running once more"; \
	      $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	    else rm -f $$log; exit 1; fi; \
	  fi; rm -f $$log; done

test-short:
	$(GO) test -count=1 -short $(PKGS)

lint: tools ## go vet + staticcheck + gofmt
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	staticcheck $(PKGS)

fmt:
	gofmt -w $(MODULES)

bench: deps ## benchmarks (results are recorded in tests/bench/RESULTS.md)
	$(GO) test -run '^$$' -bench . -benchmem -count=5 $(PKGS)

# Maria side by side with raw nats.go, Watermill and Bolt-js on this
# machine (tests/bench/compare): medians of 3 interleaved repetitions, a
# few minutes. BENCH_RESULTS=tests/bench/RESULTS.md writes the table into
# that file's bench-compare section.
bench-compare: deps ## ingress and processor hop against their comparators; the table on stdout
	$(GO) run ./tests/bench/compare $(if $(BENCH_RESULTS),-results $(abspath $(BENCH_RESULTS)))

# The chaos suite (tests/chaos): the real maria binary, one process per
# service, against nats-server processes, under injected faults. ~15 min;
# reports without failing unless CHAOS_STRICT=1. Its short version runs in
# `make test` (TestChaosShort). CHAOS_CONVERSATIONS, CHAOS_ONLY, CHAOS_LOGS tune it.
CHAOS_TIMEOUT ?= 45m
chaos: ## every fault scenario; writes the table to tests/chaos/RESULTS.md
	CHAOS=1 CHAOS_RESULTS=$(CURDIR)/tests/chaos/RESULTS.md $(GO) test -count=1 -timeout $(CHAOS_TIMEOUT) -run '^TestChaos$$' -v ./tests/chaos/

deps: ## test servers: versitygw (S3) and dynalite (DynamoDB), and Bolt-js for bench-compare, installed under .tools
	@bash tests/tools/install.sh "$(TOOLS)"
	@bash tests/bench/compare/bolt/install.sh "$(TOOLS)"

tools:
	@test -x $(TOOLS)/bin/staticcheck || GOBIN=$(TOOLS)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

clean:
	rm -rf bin data

schemas: ## regenerate schemas/jsonschema/*.json from the Go types
	$(GO) test ./schemas -run TestJSONSchemasMatchGoTypes -update
