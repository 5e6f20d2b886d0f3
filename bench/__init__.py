"""Benchmarks: `make bench` (python -m bench). Figures are ratios against a baseline run beside them."""
