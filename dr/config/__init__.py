"""Topology: model, durations, loading, and validation against the facts of AWS."""

from dr.config.findings import Finding
from dr.config.load import check_file, config_path, load
from dr.config.model import Database, DnsRecord, DnsStrategy, Engine, Environment, Topology

__all__ = ["Database", "DnsRecord", "DnsStrategy", "Engine", "Environment", "Finding", "Topology",
           "check_file", "config_path", "load"]
