"""Small helpers shared across the package: files written whole or not at all (``atomic``), summary statistics
(``stats``), and what the core install leaves out (``extras``).
"""
