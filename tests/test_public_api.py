"""The SDK's public surface is pinned: nothing becomes public by accident."""

import modelsteward


def test_public_names_are_pinned() -> None:
    assert sorted(modelsteward.__all__) == sorted(
        [
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
    )


def test_client_is_importable_from_the_package() -> None:
    from modelsteward import Client
    from modelsteward.sdk.client import Client as Direct

    assert Client is Direct
