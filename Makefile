# One entry point: `make app` runs the dashboard, `make test` runs the tests; each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DATASET ?= ml-100k

.PHONY: install data models app test lint format bench

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The pinned CPU torch first: any other torch request can pull GBs of CUDA packages.
	$(PY) -m pip install --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --disable-pip-version-check -e ".[dev,ray]"
	touch $(INSTALLED)

install: $(INSTALLED)

data: install
	$(VENV)/bin/pagegen data fetch --dataset $(DATASET)
	$(VENV)/bin/pagegen llm prepare

# The page's generators, trained and saved once (SASRec takes ~3 min on 2 cores); loaded afterwards.
# The page goes to /dev/null; what is trained and why, and the bars, go to stderr (not --json: it hides them).
models: data
	$(VENV)/bin/pagegen page --dataset $(DATASET) --backend template > /dev/null

app: models
	$(VENV)/bin/pagegen app

test: data
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure"; fi; \
	exit $$status

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: data
	$(VENV)/bin/pagegen bench --json
