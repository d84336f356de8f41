"""Built-in model flavors (registered as entry points in pyproject.toml)."""
