"""What Python 3.11 has and 3.9 lacks, for the packages the SDK installs (3.9+)."""

from __future__ import annotations

import sys
from datetime import timezone
from enum import Enum

UTC = timezone.utc

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:

    class StrEnum(str, Enum):
        """`enum.StrEnum` as 3.11 defines it: members are strings and print as their value."""

        def __str__(self) -> str:
            return str(self.value)


__all__ = ["UTC", "StrEnum"]
