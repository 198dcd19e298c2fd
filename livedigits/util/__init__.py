"""Small helpers shared across the package: files written whole or not at all (``atomic``), summary statistics
(``stats``), what the core install leaves out (``extras``), and NumPy's BLAS on one thread for small products
(``threads``).
"""
