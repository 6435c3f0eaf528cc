"""drctl's scale benchmark: a seed-scale estate in the sandbox, a timed failover, API-call counts, start-up times.

Run it with `scripts/bench` (or `python -m benchmarks`); see docs/benchmarks.md for the method and results.
"""
