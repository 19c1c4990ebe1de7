"""Storage: the port the use cases depend on, and its Azure Tables and in-memory adapters."""
