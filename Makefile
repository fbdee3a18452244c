# The three commands the README promises. Keep them true at every commit.
PY ?= python3
VENV ?= .venv

.PHONY: setup run test quality
setup:
	$(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"

run:
	$(VENV)/bin/allywatch run

test:
	$(VENV)/bin/python -m pytest

# Refresh the README's quality sections from the evaluation commands (needs ../shared/data).
quality:
	$(VENV)/bin/python -m pipelines.evaluation.readme_report
