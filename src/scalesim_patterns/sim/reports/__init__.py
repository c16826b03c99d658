"""What a run reports: results, SLO verdicts, cascade analysis, resilience and workflow telemetry."""
