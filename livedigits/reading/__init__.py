"""Reading: from per-crop probabilities to what a person reads. ``numbers`` decides digits, tracks them and
groups them into numbers; ``stable`` keeps the numbers a live view really read; ``reuse`` lets an unchanged
crop of live video keep its earlier reading; ``recognizer`` is one frame in, one result out; ``score``
compares a run's records with ground truth.
"""
