"""Monitor families: one module (or folder) per monitor type; ``registry`` lists them."""
