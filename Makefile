# The front door. `make dev` serves the API locally; `make test` runs every check.
.PHONY: dev test build tables fmt lint

dev: ## serve every route of template.yaml on 127.0.0.1:$${PORT:-9011}, against moto (IAM enforced)
	@scripts/dev.sh

test: ## fmt, clippy, unit, integration (moto) and black-box (FusionAuth client) tests
	@scripts/test.sh

.PHONY: itest
itest: ## unit and integration tests only, against a moto of their own: make itest ARGS="-p integration-tests --test api refresh"
	@scripts/itest.sh $(ARGS)

.PHONY: bench
bench: ## the performance targets (cold start, size, memory, AWS calls, CPU), written to BENCHMARKS.md
	@scripts/bench.sh

build: ## sam build: every function of template.yaml (arm64) into .aws-sam/build, ready for sam deploy
	@scripts/build.sh

.PHONY: soak
soak: ## 5 minutes of mixed start/send/login against the local service: no 5xx, no lost login
	@scripts/soak.sh

tables: ## create the two tables at AWS_ENDPOINT_URL (or the account in the environment)
	cargo run --quiet --bin passwordless-admin -- create-tables

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
