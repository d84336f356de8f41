"""Credentials an HTTP receiver may ask for: a bearer token, or a user and password."""

from __future__ import annotations

import base64

from pydantic import Field, model_validator

from modelsteward.alerting.channels.kinds import UrlConfig


class AuthenticatedUrlConfig(UrlConfig):
    bearer_token: str | None = Field(default=None, max_length=4096)
    username: str | None = Field(default=None, max_length=256)
    password: str | None = Field(default=None, max_length=1024)

    @model_validator(mode="after")
    def _one_way(self) -> AuthenticatedUrlConfig:
        if self.bearer_token and self.username:
            raise ValueError("give a bearer_token or a username and password, not both")
        if self.password and not self.username:
            raise ValueError("a password needs a username")
        return self

    def auth_headers(self) -> dict[str, str]:
        if self.bearer_token:
            return {"authorization": f"Bearer {self.bearer_token}"}
        if self.username:
            pair = f"{self.username}:{self.password or ''}".encode()
            return {"authorization": "Basic " + base64.b64encode(pair).decode()}
        return {}


SECRETS = ("bearer_token", "password")
