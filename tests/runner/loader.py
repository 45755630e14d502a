"""The runner loaded from its file, as the standalone script it is.

The tests load trustbench_measure.py (at the top of the repository) by path, so they
exercise exactly the file an operator copies.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

RUNNER_PATH = Path(__file__).resolve().parents[2] / "trustbench_measure.py"
MODULE_NAME = "trustbench_measure"


def load_runner():
    module = sys.modules.get(MODULE_NAME)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(MODULE_NAME, RUNNER_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


tm = load_runner()
