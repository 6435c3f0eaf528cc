"""drctl: disaster-recovery failover for AWS as code."""

__version__ = "0.1.0"
