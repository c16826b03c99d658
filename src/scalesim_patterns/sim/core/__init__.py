"""The kernel at the bottom: event heap, random streams, statistics, histograms, causes."""
