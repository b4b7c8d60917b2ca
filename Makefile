# ckpt — see README.md. `make run` opens the TUI; `make test` runs every test.
GO      ?= go
BIN     := bin/ckpt
PKGS    := ./...

.PHONY: run build test test-short bench lint peers runner fmt clean fuzz-state faults

build:
	$(GO) build -o $(BIN) .

# Opens the TUI on the embedded engine with a demo job running, next to a
# Flink-style snapshot tree built from the real Flink fixtures (bin/demo);
# see README "The TUI".
run: build
	./$(BIN) demo bin/demo

# Every test, real peers included (they skip loudly without Java/Maven unless
# CI=true or CKPT_REQUIRE_PEERS=1, where missing peers fail). One real HDFS
# serves every package's tests and is stopped afterwards (peers/with-hdfs.sh).
test: peers runner
	$(GO) vet $(PKGS)
	./peers/with-hdfs.sh $(GO) test -count=1 -timeout 28m $(PKGS)
	# A short fuzz of the _metadata decoder (corpus: every real Flink fixture).
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 20s -fuzzminimizetime 10s ./snapshot/

# The fault suite at full size (internal/faults; make test runs it bounded):
# 100 seeded SIGKILL runs each of checkpoint, restore, savepoint and dispose,
# disk full / read-only storage, a corrupt byte in every kind of snapshot
# file, 1,000 malformed REST requests, 50 concurrent clients, a private
# HDFS NameNode frozen and killed. The report table goes to
# bin/faults-report.txt.
faults: peers
	CKPT_FAULTS=full CKPT_FAULTS_REPORT=$(CURDIR)/bin/faults-report.txt $(GO) test -count=1 -v -timeout 60m -run TestFaultSuite ./internal/faults/

test-short:
	$(GO) test -short $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Resolve the real peers' Java classpaths from Maven Central (cached in ~/.m2).
peers:
	@./peers/setup.sh

# ckpt's runner for Flink (runner/target/ckpt-flink-runner.jar), the jar
# `ckpt submit SPEC -m FLINK` runs a job spec with. Built by Maven only when
# a source changed; reproducible (same sources, same bytes).
runner:
	@./runner/build.sh

# Fuzz the state codec (its seeds, and every input that ever failed, run as
# plain tests in `make test`).
fuzz-state:
	$(GO) test -run '^$$' -fuzz FuzzKeyedProxy -fuzztime 60s ./snapshot/state/
	$(GO) test -run '^$$' -fuzz FuzzOperatorProxy -fuzztime 60s ./snapshot/state/

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin peers/work
