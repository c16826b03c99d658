"""The network on the kernel: stations, call steps, traffic sources and the client call pipeline."""
