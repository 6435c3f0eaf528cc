"""The Step Functions engine: the runbook's plan as an Amazon States Language state machine in the DR region.

generate (runbook steps -> ASL), naming (names, tags, topology hash), deploy (role and state machine, idempotent),
follow (start an execution named after the run id, read its history into the run report). See docs/engines.md.
"""
