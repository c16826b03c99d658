"""Platform plug-ins: pods and their lifecycle, probes, the autoscaler, faults."""
