"""The API's routes, one module per resource (docs/web-api.md)."""
