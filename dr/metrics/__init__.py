"""Monitoring: the metric names in one place, run metrics (Pushgateway / textfile) and the exporter."""
