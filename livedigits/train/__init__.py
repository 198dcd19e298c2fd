"""Training, evaluation and export of the network, and the data they use: MNIST (``data``), writers outside MNIST
(``writers``), non-digit marks (``marks``), camera-like augmentation (``augment``), ``training``,
``evaluation``, ``export``, ``finetune`` and ``plots``. Inference never imports this package.
"""
