# The README's two commands: `make demo` (the main job on the shipped defaults) and `make test`.
# Both install what they need first; the stamp file skips the install when pyproject.toml, setup.py and the sources
# the install compiles (the simplifier's and the generator's, see lawfinder/native.py) are unchanged.
PYTHON ?= python3
STAMP := .make/installed

$(STAMP): pyproject.toml setup.py lawfinder/native.py $(wildcard lawfinder/simplipy/*.py lawfinder/simplipy/rewrite/*.py \
    lawfinder/simplipy/rewrite/*.pxd lawfinder/generate/*.py lawfinder/generate/*.pyx)
	$(PYTHON) -m pip install -q torch==2.13.0
	$(PYTHON) -m pip install -q -e '.[dev]'
	@mkdir -p .make && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	RAY_USAGE_STATS_ENABLED=0 $(PYTHON) examples/demo.py

docs-images: $(STAMP)
	RAY_USAGE_STATS_ENABLED=0 $(PYTHON) docs/make_images.py

results: $(STAMP)
	$(PYTHON) -m lawfinder bench fastsrb-page

test: $(STAMP)
	RAY_USAGE_STATS_ENABLED=0 $(PYTHON) -m pytest -q

.PHONY: install demo test results docs-images
