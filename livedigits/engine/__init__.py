"""The engine: sources in, results out through sinks and callbacks (``loop``). ``run``, ``serve``, ``bench``,
``collect`` and ``Reader.stream`` all go through it.
"""
