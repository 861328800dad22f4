# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
PROCESSES ?= 2

.PHONY: run serve test test-full bench sample chromium postgresql nginx libreoffice clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.port $(PORT)

# Several app processes behind nginx on $(PORT), sharing the server store (docs/serving.md).
serve: $(VENV)/.runtime nginx
	$(PY) -m rcs_viz serve --processes $(PROCESSES) --port $(PORT)

# One pytest worker per core (pytest-xdist): the browser tests wait on their servers, so two workers keep both cores busy.
test: $(VENV)/.dev chromium postgresql nginx libreoffice
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n auto

# The long disclosure suites in full, off by default (see README).
test-full: $(VENV)/.dev chromium postgresql nginx libreoffice
	$(PY) -m pytest -n auto --full

bench: $(VENV)/.dev
	$(PY) bench/run_all.py

# Rebuild the committed synthetic sample from its seed.
sample: $(VENV)/.runtime
	$(PY) -m rcs_viz sample --out data_samples

# The browser tests drive Debian's chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; }

# The server store's tests start Debian's PostgreSQL (as its postgres user when
# run as root); install it when it is missing.
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; }

# The two-process test puts Debian's nginx in front of the app (docs/serving.md); install it when it is
# missing. Only the binary is used: the test runs its own nginx, unprivileged, on a configuration of its own.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx; }

# The story deck's test opens the .pptx in LibreOffice and draws its slides to PNG (pdftoppm); install both when
# missing. Without recommends: about 80 MB to fetch, 260 MB on disk, half a minute.
libreoffice:
	@{ command -v soffice && command -v pdftoppm; } >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends libreoffice-impress poppler-utils; }

clean:
	rm -rf $(VENV) .cache .pytest_cache
