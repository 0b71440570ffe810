# Each target creates the virtual environment when it is missing.
PY ?= python3
SEED ?= 1
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cicasim-installed

.PHONY: run test fuzz bench clean explore

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,explore]'
	touch $(STAMP)

# The README's seed, so the table printed is the README's; `make run SEED=7` draws another.
run: $(STAMP)
	$(BIN)/cicasim run scenarios/cica-2022.toml --seed $(SEED)
	@echo "seed $(SEED) (the README's is 1). Another seed: make run SEED=7, or" \
	  "$(BIN)/cicasim run scenarios/cica-2022.toml without --seed to draw one at random."

# The interactive explorer on CICA 2022 (docs/explorer.md); `make explore SCENARIO=...` for another.
explore: $(STAMP)
	$(BIN)/cicasim explore $(SCENARIO)

test: $(STAMP)
	$(BIN)/python -m pytest

# The command-line fuzz with a large budget of fresh random examples (docs/reliability.md).
FUZZ ?= 2000
fuzz: $(STAMP)
	CICASIM_FUZZ=$(FUZZ) $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py \
		--hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_power.py
	$(BIN)/python benchmarks/bench_sweep.py

clean:
	rm -rf $(VENV) .venv312 .pytest_cache .hypothesis
