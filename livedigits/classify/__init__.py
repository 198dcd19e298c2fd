"""Classification: ``backends`` runs a model on a batch of crops (LiteRT or TensorFlow); ``modelfile`` knows the
model files (where the shipped ones are, their checks, loading). No training code is imported here.
"""
