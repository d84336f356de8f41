"""Monitor families beyond the built-in five, registered at import (see ``base``)."""

from modelsteward.monitoring.families import (
    business_kpi,  # noqa: F401
    champion_challenger,  # noqa: F401
    estimated_performance,  # noqa: F401
    fairness,  # noqa: F401
    multivariate,  # noqa: F401
    outliers,  # noqa: F401
)
from modelsteward.monitoring.families.base import FAMILIES, Family, FamilyContext, FamilyResult

__all__ = ["FAMILIES", "Family", "FamilyContext", "FamilyResult"]
