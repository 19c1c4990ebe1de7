"""The domain: plain dataclasses and pure functions, with no framework or I/O imports."""
