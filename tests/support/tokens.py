"""Test signing keys and JWTs shaped like the Bot Connector's and Entra ID's."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


@dataclass
class SigningKey:
    """An RSA key pair with a key id, publishable as a JWKS."""

    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm="RS256", headers={"kid": self.kid, **header}
        )

    def sign_raw(self, claims: dict[str, Any]) -> str:
        """RS256 over any JSON payload, even one PyJWT refuses to build (``iss`` as a list):
        what an attacker with a trusted key could send."""
        signing_input = f"{_segment({'alg': 'RS256', 'kid': self.kid, 'typ': 'JWT'})}." + _segment(
            claims
        )
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def jwks(*keys: SigningKey) -> dict[str, Any]:
    """A JSON Web Key Set."""
    return {"keys": [k.jwk() for k in keys]}


def claims(audience: str, issuer: str, *, lifetime: int = 3600, **extra: Any) -> dict[str, Any]:
    """Standard claims valid from now for ``lifetime`` seconds (negative: already expired)."""
    now = int(time.time())
    return {
        "aud": audience,
        "iss": issuer,
        "iat": now - 10,
        "nbf": now - 10,
        "exp": now + lifetime,
        **extra,
    }


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    """An ``alg: none`` token."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(payload)}."
