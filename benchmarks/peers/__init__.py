"""What teams run instead of drctl, as small honest scripts doing the same moves on the same estate: `by_hand`
(boto3 and its standard waiters, one database after another) and `dr_orchestrator` (AWS's DR Orchestrator
Framework sample's pattern: every promotion at once, Step Functions `Wait` states between status checks).

Each peer runs as its own process, reads the moves from a JSON plan (`benchmarks.peers.plan`) and imports only
boto3, as a script an SRE keeps beside the runbook would. Waits are AWS's real ones scaled by the plan's
`time_scale` (the benchmark's promotions stand for minutes-long ones: see docs/benchmarks.md)."""
