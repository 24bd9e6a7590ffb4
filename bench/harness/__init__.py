"""The benchmark harness: bench/run.py drives it, scripts/bench.sh calls bench/run.py."""
