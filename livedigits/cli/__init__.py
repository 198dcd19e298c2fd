"""The command line: ``main`` parses arguments and calls the package; ``doctor``, ``logs`` and ``progress`` serve
it.
"""
