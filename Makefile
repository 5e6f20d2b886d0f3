# The README's two commands: `make run` (set up, migrate, seed, serve) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench lint screenshots clean messages axe zxing-wasm

$(STAMP): pyproject.toml
	$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is required")'
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The message catalogs' .mo files are build products: compiled from the .po files on every install.
install: $(STAMP)
	$(BIN)/pybabel -q compile

# After changing texts in the code: extract the msgids (pyproject.toml's [tool.babel]) and merge them
# into every language's .po; translate the new entries, then `make install` compiles them (README "Languages").
messages: install
	mkdir -p build
	$(BIN)/pybabel -q extract
	$(BIN)/pybabel -q update

run: install
	$(BIN)/selfinstall migrate
	$(BIN)/selfinstall seed
	$(BIN)/selfinstall serve

test: install axe
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check backend mobile_api fixtures bench tests
	$(BIN)/ruff format --check backend mobile_api fixtures bench tests

# The console and portal tests write docs/screenshots/*.png: the specialists', the operators' and the
# customers' pages (needs Debian's chromium).
screenshots: install axe
	SCREENSHOTS=docs $(BIN)/pytest tests/console tests/portal

# axe-core from the npm registry for the portal's accessibility checks (tests/portal), into build/ (not committed).
AXE := build/axe/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	npm install --no-save --no-audit --no-fund --prefix build/axe axe-core@4.14.1

# The portal's QR reader where the browser has no BarcodeDetector (README "Customer portal"): zxing-wasm's reader
# build, committed under $(ZXING_DIR) so `make run`, the wheel and the image serve it offline. This refetches it from
# the npm registry at the pinned version (npm checks the tarball's integrity); tests/portal/test_portal_scan.py pins
# the files' SHA-256, so a changed file fails until the test says which version it is.
ZXING_WASM := 3.1.4
ZXING_DIR := backend/portal/static/vendor/zxing-wasm
zxing-wasm:
	rm -rf build/zxing-wasm && mkdir -p build/zxing-wasm
	cd build/zxing-wasm && npm pack --silent zxing-wasm@$(ZXING_WASM) >/dev/null && tar -xzf zxing-wasm-$(ZXING_WASM).tgz
	cp build/zxing-wasm/package/dist/iife/reader/index.js $(ZXING_DIR)/reader.js
	cp build/zxing-wasm/package/dist/reader/zxing_reader.wasm build/zxing-wasm/package/LICENSE $(ZXING_DIR)/

clean:
	rm -rf $(VENV) data
