# The two commands a newcomer needs: `make run` and `make test`. See README.md.
.PHONY: run up down test fuzz broker-restarts build format lint bench bench-auth bench-gateway bench-jobs bench-tasks bench-search bench-notifications bench-photoml bench-campaigns bench-experience eval-experience bench-digests

run:    ## everything in the foreground; Ctrl-C stops it (OBSERVE=1: with Prometheus on :9090)
	OBSERVE=$(OBSERVE) infra/dev/stack.sh run

up:     ## everything in the background; returns when the gateway is ready (OBSERVE=1: with Prometheus on :9090)
	OBSERVE=$(OBSERVE) infra/dev/stack.sh up

down:   ## stop what `make up` started
	infra/dev/stack.sh down

test:   ## separate PostgreSQL + broker for tests, swift test, stop them
	infra/dev/stack.sh test

fuzz:   ## schemathesis against every service through the gateway on the test stack (long pass); prints figures
	infra/dev/stack.sh fuzz

broker-restarts:  ## restarts a test broker five times under tasks and search; prints recovery and shutdown times
	SWIFT_TEST_ARGS="--filter BrokerRestartTests" BROKER_RESTARTS=1 BENCH=1 infra/dev/stack.sh test

build:  ## installs what is missing (OpenVINO's runtime among it), then swift build
	infra/dev/install.sh
	swift build

format:  ## formats the Swift sources by .swift-format
	swift format format --in-place --recursive Services Shared Tests contracts bench Package.swift

lint:  ## fails on any .swift-format finding (make test runs it first)
	swift format lint --strict --recursive Services Shared Tests contracts bench Package.swift

bench:  ## every benchmark below, one after the other
	$(MAKE) bench-auth bench-gateway bench-jobs bench-tasks bench-search bench-notifications bench-photoml bench-campaigns bench-experience eval-experience bench-digests

bench-gateway:  ## wrk: gateway (JWT + limiter) vs nginx vs direct, release build; prints figures
	bench/gateway.sh

bench-auth:  ## auth throughput (logins/s, refreshes/s) on the test stack, release build; prints figures
	SWIFT_TEST_ARGS="-c release -Xswiftc -enable-testing --filter AuthBenchmark|RefreshStatementBenchmark" BENCH=1 infra/dev/stack.sh test

bench-jobs:  ## job queue: jobs/s with 1 and 2 workers, claim latency p50/p99, release build; prints figures
	SWIFT_TEST_ARGS="-c release -Xswiftc -enable-testing --filter JobsBenchmark" BENCH=1 infra/dev/stack.sh test

bench-tasks:  ## task create and list requests/s through the gateway, release build; prints figures
	SWIFT_TEST_ARGS="-c release -Xswiftc -enable-testing --filter TasksBenchmark" BENCH=1 infra/dev/stack.sh test

bench-search:  ## search: index 1M documents from events, query p50/p99, queries/s, event-to-searchable, index size; release build
	SWIFT_TEST_ARGS="-c release -Xswiftc -enable-testing --filter SearchBenchmark|TextVectorBenchmark" BENCH=1 infra/dev/stack.sh test

bench-notifications:  ## webhook deliveries/s, emails/s to the local receivers, event-to-webhook p99; release build
	SWIFT_TEST_ARGS="-c release -Xswiftc -enable-testing --filter NotificationsBenchmark" BENCH=1 infra/dev/stack.sh test

bench-photoml:  ## photoml: 12 MP photos upload to completed, per stage, count error, photos/minute; release build
	infra/dev/fuzz.sh validate >/dev/null
	.dev/venv/bin/python ml/make_bench_photos.py 4
	SWIFT_TEST_ARGS="-c release -Xswiftc -enable-testing --no-parallel --filter PhotoMLBenchmark|PhotoMLAccuracyBenchmark|DetectionInsertBenchmark" BENCH=1 BENCH_PHOTOML=1 infra/dev/stack.sh test

bench-digests:  ## content pipeline: articles/s per core through its stages on 50,000 generated articles, near-duplicate precision/recall beside PyPI datasketch, TextRank beside PyPI sumy; then 100,000 digests due at once, claimed, assembled and handed to notifications; release build
	swift build -c release --product experience
	"$$(swift build -c release --show-bin-path)/experience" pipeline-bench --articles 50000 --out .dev/pipeline.jsonl
	[ -x .dev/venv/bin/python ] || python3 -m venv .dev/venv
	.dev/venv/bin/python -c 'import datasketch' 2>/dev/null || .dev/venv/bin/pip install -q --disable-pip-version-check 'datasketch==1.6.5'
	.dev/venv/bin/python ml/near_duplicates_baseline.py .dev/pipeline.jsonl
	.dev/venv/bin/python -c 'import sumy' 2>/dev/null || .dev/venv/bin/pip install -q --disable-pip-version-check 'sumy==0.11.0'
	.dev/venv/bin/python ml/summary_baseline.py "$$(swift build -c release --show-bin-path)/experience" .dev
	EXPERIENCE_BINARY="$$(swift build -c release --show-bin-path)/experience" BENCH_DIGESTS=1 BENCH=1 \
	  SWIFT_TEST_ARGS="--filter DigestBenchmark" infra/dev/stack.sh test

eval-experience:  ## experience: offline recall@20/NDCG@20 of popularity, heuristic and ALS on planted tastes, against PyPI implicit
	bench/experience-eval.sh $(ARGS)

bench-experience:  ## experience: ingest events/s and home p50/p99 (uncached, cached) on a million interactions; release binary
	bench/experience.sh

bench-campaigns:  ## campaigns: a million-subscriber campaign to smtp-sink: launch, mails/s, memory; release build
	bench/campaigns.sh
