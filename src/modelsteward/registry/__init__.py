"""The model inventory: models, immutable versions, aliases, flavors, bundles."""
