"""The concrete runbooks (failover, failback), their steps, and the human pages (*.md) beside them.

Importing a runbook module registers it in `dr.engine.registry`; `registry.get(name)` imports
`runbooks.<name>` on demand.
"""
