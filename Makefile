# Convenience targets; each calls the script that does the work (see README).
.PHONY: deps build demo test bench-gemm clean

deps:
	scripts/install-deps.sh

build:
	swift build -c release --product quiver

demo:
	scripts/demo.sh

test:
	scripts/test.sh

bench-gemm:
	python3 Benchmarks/gemm/run.py

clean:
	rm -rf .build
