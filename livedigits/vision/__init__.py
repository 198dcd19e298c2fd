"""Vision: the OpenCV stages that turn a frame into candidate crops: ``segment`` (paper, ink, pieces, crops),
``lines`` (ruled and grid lines), ``normalize`` (the MNIST normalisation of each crop) and ``boxes`` (overlap
and matching of boxes).
"""
