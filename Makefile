# One spelling of each task. `make help` lists them.
GO        ?= go
BIN       ?= bin
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BENCHTIME ?= 1s
COUNT     ?= 6
BENCH_ENTRIES ?= 100000

SEEDS     ?= 2000
FUZZTIME  ?= 10s

.PHONY: help build test test-short run demo sim bench bench-full bench-all fuzz proto verify tidy clean container-test

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## static caissed and caisse in bin/ (CGO_ENABLED=0)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/caissed ./cmd/caisse

test: ## go test -race ./... (the README's and CI's command)
	$(GO) test -race -count=1 ./...

test-short: ## the quick tests only, without the race detector
	$(GO) test -short ./...

container-test: ## the deploy files in Docker: image, compose federation, partition, kill -9 (needs a Docker engine)
	CAISSE_CONTAINER_TEST=1 $(GO) test -count=1 -v -timeout 15m -run 'TestComposeFederation$$' ./internal/containertest/

run: ## a node on the embedded default (data in ~/.local/share/caisse)
	$(GO) run ./cmd/caissed

demo: ## a demo federation of three nodes on loopback (the README's first command)
	$(GO) run ./cmd/caissed --demo

sim: ## long seeded simulations of the sync core: make sim SEEDS=N (SIM_SEED=N replays one)
	SIM_SEEDS=$(SEEDS) $(GO) test -count=1 -timeout 60m -run 'TestSim$$' ./node/syncer/syncertest/

bench: ## the performance suite at BENCH_ENTRIES entries: one table, each figure beside its same-run baseline
	@rm -f bench.out; echo "bench: BENCH_ENTRIES=$(BENCH_ENTRIES), output in bench.out"
	@echo 'bench: ingest, appends, queries, anti-entropy'
	@BENCH_ENTRIES=$(BENCH_ENTRIES) nice $(GO) test -timeout 2h -run '^$$' -bench '^Benchmark(Ingest|Append|Queries|AntiEntropyInSync|AntiEntropyMembers)$$' \
		-benchtime $(BENCHTIME) -count $(COUNT) ./node/ >>bench.out 2>&1 || { tail -40 bench.out; exit 1; }
	@echo 'bench: catch-up'
	@BENCH_ENTRIES=$(BENCH_ENTRIES) nice $(GO) test -timeout 2h -run '^$$' -bench '^BenchmarkCatchUp$$' -benchtime 1x -count 3 ./node/ >>bench.out 2>&1 || { tail -40 bench.out; exit 1; }
	@echo 'bench: footprint of real caissed processes'
	@BENCH_ENTRIES=$(BENCH_ENTRIES) nice $(GO) test -timeout 2h -run '^$$' -bench '^BenchmarkFootprint$$' -benchtime 1x -count 1 ./node/ >>bench.out 2>&1 || { tail -40 bench.out; exit 1; }
	@echo 'bench: propagation'
	@nice $(GO) test -timeout 2h -run '^$$' -bench '^BenchmarkPropagation$$' -benchtime 200x -count 1 ./node/ >>bench.out 2>&1 || { tail -40 bench.out; exit 1; }
	@echo "go: $$($(GO) env GOVERSION); cpu: $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $$(nproc); $$(date -u '+%Y-%m-%d %H:%M UTC')"
	@$(GO) run ./internal/benchcmp/benchtable bench.out

bench-full: ## make bench with 1M entries (about 22 minutes)
	$(MAKE) bench BENCH_ENTRIES=1000000

bench-all: ## every benchmark of every package, each beside its baseline (x-baseline); feed to benchstat
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./... | tee bench-all.out

fuzz: ## every fuzz target for FUZZTIME each, one after the other (make fuzz FUZZTIME=1m)
	FUZZTIME=$(FUZZTIME) ./.ci/fuzz

proto: ## regenerate proto/ with the generators pinned in go.mod
	$(GO) tool buf lint
	$(GO) tool buf generate

verify: ## gofmt, vet, buf lint; fail if go.mod or generated code is stale
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(MAKE) proto
	@git diff --exit-code -- proto/ || { echo 'proto/: generated code is stale: run make proto and commit'; exit 1; }

clean: ## remove build outputs
	rm -rf $(BIN) bench.out bench-all.out
