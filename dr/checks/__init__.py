"""Readiness checks: can an environment take traffic? One module per AWS service, `readiness` orchestrates."""
