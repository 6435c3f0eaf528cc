"""The runbook engine: steps, executor (phases, parallel groups, budgets, retries), journal, lock, events.

Read in the order a run flows: `step` and `runbook` (the contract a runbook is written against),
`session` (one run: lock, journal header, executor, report), `executor` and `step_runner` (phases, groups,
is_done -> check -> act -> verify on a budget), `journal/` and `lock/` (local and AWS backends),
`events` (what observers hear), `report` (docs/reference.md), `progress`, `registry`, `facts`, `env`.
Operator's view: docs/runs.md.
"""
