"""Helpers shared by the standard components: constructor arguments, user module files,
reading and writing split examples, and choosing between Beam and the in-process path.

Only light modules are imported here; the ones that need TensorFlow or Beam import them
inside their functions.
"""
