"""ScaleSim Patterns: design microservice systems from proven patterns, simulate them, generate them."""

__version__ = "0.1.0"
