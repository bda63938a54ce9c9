# The two commands a newcomer needs: `make run` and `make test`. See README.md.
.PHONY: run test bootstrap browser lint fmt migrate seed stop clean

run: bootstrap
	.venv/bin/python -m backend.cli run

test: bootstrap browser
	bash scripts/test.sh

bootstrap:
	bash scripts/bootstrap.sh

browser:
	bash scripts/install_browser.sh

lint: bootstrap
	.venv/bin/ruff check . && .venv/bin/lint-imports

fmt: bootstrap
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

migrate: bootstrap
	.venv/bin/python -m backend.cli migrate

seed: bootstrap
	.venv/bin/python -m backend.cli seed

stop:
	.venv/bin/python -m backend.cli stop-services

clean: stop
	rm -rf .data .web .states

# Tracking benchmark (bench/README.md): loads 1M shipments / 10M events once, then measures.
.PHONY: bench
bench: bootstrap browser
	.venv/bin/python -m bench.load_tracking_data --if-missing && .venv/bin/python -m bench.tracking_api
