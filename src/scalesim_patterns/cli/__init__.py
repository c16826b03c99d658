"""The `scalesim` command."""
