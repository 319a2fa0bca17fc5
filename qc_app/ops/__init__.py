"""The operator's view of a running instance: liveness and readiness probes, Prometheus
metrics, JSON logs with request ids, optional error reporting; backups come with storage."""
