"""AWS ARC Region switch: the topology's failover as a Region switch plan (`CreatePlan` document), for teams that
want AWS's managed runner (docs/engines.md)."""
