"""The optional Rust accelerator (`cognify-hashing-native`, libs/hashing-native).

`enabled` is True when the accelerator module `accel` is installed and the environment
variable `COGNIFY_HASHING_NATIVE` is not "0". The rest of the package reads `enabled` at call
time, so setting it to False (as the tests do) switches everything back to the pure-Python
reference. Both paths give the same bytes: the pure code defines them, and the tests compare
the two on every kind of input. Whatever the accelerator does not handle it hands back to
the pure code, so errors keep their messages.
"""

from __future__ import annotations

import os

__all__ = ["IMPORT_ERROR", "accel", "enabled"]

IMPORT_ERROR: ImportError | None = None
try:
    import cognify_hashing_native as accel
except ImportError as exc:  # not built for this interpreter: the pure path is used
    accel = None  # type: ignore[assignment]
    IMPORT_ERROR = exc

enabled: bool = accel is not None and os.environ.get("COGNIFY_HASHING_NATIVE", "1") != "0"
