# Convenience targets; each calls the script that does the work (see README).
.PHONY: deps build dist dist-check demo test bench-gemm clean

deps:
	scripts/install-deps.sh

build:
	swift build -c release --product quiver

dist:
	scripts/dist.sh

dist-check:
	scripts/dist-check.sh

demo:
	scripts/demo.sh

test:
	scripts/test.sh

bench-gemm:
	python3 Benchmarks/gemm/run.py

clean:
	rm -rf .build .build-dist dist
