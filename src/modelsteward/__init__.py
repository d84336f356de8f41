"""modelsteward: run the whole life of models after training.

The public SDK is what ``__all__`` lists; a test pins it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from modelsteward.errors import (  # noqa: E402
    Conflict,
    Forbidden,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    StewardError,
    Unauthorized,
    UntrustedArtifact,
)

__all__ = [
    "Client",
    "Conflict",
    "Forbidden",
    "IntegrityFailure",
    "InvalidInput",
    "NotFound",
    "StewardError",
    "Unauthorized",
    "UntrustedArtifact",
    "__version__",
]


def __getattr__(name: str) -> object:
    if name == "Client":  # imported lazily: the SDK pulls in httpx and pandas
        from modelsteward.sdk.client import Client

        return Client
    raise AttributeError(name)
