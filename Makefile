# proxysizer: the README's two commands are `make demo` and `make test`.
GO       ?= go
BIN      := bin/proxysizer
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/proxysizer/proxysizer/cmd.version=$(VERSION)
# Integration tests (real proxies, cgroups, Prometheus, a control plane,
# Chromium) carry the `integration` build tag; the unit tier leaves them out.
TEST_TIMEOUT ?= 80m

.PHONY: build test test-unit test-integration demo deps vet fmt-check clean bench fuzz image

build: echarts
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Fast tier for the development loop: pure logic and in-process servers only.
test-unit: echarts vet fmt-check
	$(GO) test -count=1 ./...

# Everything, real components included. `deps` installs what the tests need.
# One package at a time (-p 1): load tests and sweeps measure time and CPU,
# and must not share the 2 cores with another package's control plane.
test: deps echarts build vet fmt-check fuzz
	$(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) -tags integration ./...

# Fuzz targets (go test -fuzz) of what reads hostile input: the profile
# parser, the sweep.json loader, CPU quantities, the restore journal and
# plan's flags, each for FUZZTIME (5 targets x 10 s). Minimizing a new
# input is capped at 1 s, so that minimizing a large seed (a sweep.json)
# cannot eat the budget. The corpus grows in the Go build cache.
FUZZTIME ?= 10s
FUZZ_TARGETS := profiles:FuzzParse results:FuzzParse internal/quantity:FuzzParseMillicores cluster:FuzzParseJournal cmd:FuzzPlanFlags
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz: $$name in ./$$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./$$pkg; \
	done

deps:
	bash scripts/install-deps.sh

demo: build
	bash scripts/demo.sh

bench: build
	bash bench/run.sh

clean:
	rm -rf bin

# The image (Dockerfile): the load agent the kubernetes backend's load pods
# run, tagged as `sweep --load-image` names it by default (proxysizer:VERSION,
# the version `make build` stamps into the binary). Push it where the
# cluster pulls from: IMAGE=REGISTRY/proxysizer:$(VERSION) make image.
IMAGE ?= proxysizer:$(VERSION)
image:
	docker build -t $(IMAGE) --build-arg VERSION=$(VERSION) .

# The HTML report's charting script (Apache ECharts, pinned and checksummed),
# fetched from the npm registry into charts/assets and embedded with go:embed.
.PHONY: echarts
echarts:
	bash scripts/fetch-echarts.sh
