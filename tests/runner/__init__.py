"""Tests of the standalone benchmark runner, trustbench-measure."""
