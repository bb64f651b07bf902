"""The checks' EHDS helpers import as ``ehds_support`` (testcases/pytest.ini puts testcases/ on the path)."""

from __future__ import annotations

import sys
from pathlib import Path

TESTCASES = str(Path(__file__).resolve().parents[2] / "testcases")
if TESTCASES not in sys.path:
    sys.path.insert(0, TESTCASES)
