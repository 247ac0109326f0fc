# Two commands matter: `make simulate` (the default study) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: simulate test lint typecheck pytest browser nginx bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The default study: which queue sizes keep the job available 95% of the time, and at what cost, against hiring on
# demand (one baseline row: on-demand reads no waiting sizes), each point paired with on-demand under common random
# numbers. 9 configurations x 20 runs (44 s wall on the shared 2-core machine, 2026-12-01; see README).
simulate: $(STAMP)
	$(VENV)/bin/pavilion simulate --sweep policy.name=pavilion,on-demand --sweep policy.min_waiting=0,1 \
	  --sweep policy.max_waiting=1,2,3,4 --baseline policy.name=on-demand --jobs 2 --target 'availability>=0.95' \
	  --out results

test: $(STAMP) browser nginx lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest

# The browser tests drive Debian's chromium; install it when missing (needs root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing and not root: browser tests will be skipped"; fi; }

# The deployment e2e test (tests/e2e/deploy) starts Debian's nginx itself; install it when missing (root, as on CI).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else echo "nginx missing and not root: the nginx deployment test will be skipped"; fi; }

bench: $(STAMP)
	$(PY) benchmarks/core_speed.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
