# The three commands the README promises. Keep them true at every commit.
PY ?= python3
VENV ?= .venv

.PHONY: setup run test
setup:
	$(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"

run:
	$(VENV)/bin/allywatch run

test:
	$(VENV)/bin/python -m pytest
