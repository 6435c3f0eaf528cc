"""The step classes of the failover and failback runbooks: one small module per step family."""
