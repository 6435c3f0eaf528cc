"""The runbook engine: steps, executor (phases, parallel groups, budgets, retries), journal, lock, events."""
