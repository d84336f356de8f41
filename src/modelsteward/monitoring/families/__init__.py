"""Monitor families beyond the built-in five, registered at import (see ``base``)."""

from modelsteward.monitoring.families.base import FAMILIES, Family, FamilyContext, FamilyResult

__all__ = ["FAMILIES", "Family", "FamilyContext", "FamilyResult"]
