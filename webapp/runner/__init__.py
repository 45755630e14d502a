"""The standalone benchmark runner (trustbench_measure.py: one file, standard library only)."""
