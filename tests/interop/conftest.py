"""The interop tests need the optional ``nir`` package; each module also skips when its library is missing."""

import importlib.util
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

# without nir there is nothing to test here (the cross env may run without it)
collect_ignore_glob = [] if importlib.util.find_spec("nir") else ["test_*.py"]
