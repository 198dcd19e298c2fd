"""livedigits: read handwritten digits and numbers live from a camera."""

__version__ = "0.1.0"
