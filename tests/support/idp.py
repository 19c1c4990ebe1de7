"""A local HTTPS identity provider that speaks Entra ID's v2.0 protocol, for tab SSO tests.

What it serves, at ``https://127.0.0.1:PORT/{tenant}/...`` as ``login.microsoftonline.com``
does (``url`` plays the role of ``https://login.microsoftonline.com``):

- ``GET  /{tenant}/v2.0/.well-known/openid-configuration``: OpenID Provider metadata;
- ``GET  /{tenant}/discovery/v2.0/keys``: the JWKS (keys can be added while it runs, as
  Entra publishes a new key before it signs with it);
- ``POST /{tenant}/oauth2/v2.0/token``: ``client_credentials``, the on-behalf-of grant
  (``urn:ietf:params:oauth:grant-type:jwt-bearer`` + ``requested_token_use=on_behalf_of``)
  and ``refresh_token``. Clients authenticate with a secret in the body or with HTTP Basic.
  Errors are Entra's JSON (``error``, ``error_description`` starting ``AADSTSnnnn:``,
  ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``, ``error_uri``) with
  Entra's status codes: 401 ``invalid_client`` for a wrong secret, 400 otherwise.

Tokens are RS256 JWTs signed with the published keys. ``sso_token`` mints what Teams'
``getAuthToken()`` hands a tab (a v2.0 access token for the app's own API); the OBO grant
turns one into a v1.0-shaped Microsoft Graph token (``aud`` https://graph.microsoft.com,
``iss`` https://sts.windows.net/{tid}/) as Entra does.

TLS comes from ``TestCA``: a throw-away CA and a certificate for 127.0.0.1, generated at
start; clients trust ``ca.pem_path`` (requests/MSAL) or ``ca.client_context()`` (aiohttp).
The server runs its own event loop in a thread, like a remote service: a client that
blocks the test's loop blocks only itself.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import re
import secrets
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.tokens import SigningKey

GRAPH = "https://graph.microsoft.com"
POSED_HOSTS = (
    "login.microsoftonline.com",
    "login.botframework.com",
    "smba.trafficmanager.net",
    "graph.microsoft.com",
)
OBO_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TEAMS_WEB_CLIENT_ID = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
_ALIASES = frozenset({"common", "organizations"})


# --- TLS -----------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class TestCA:
    """A test certificate authority and a server certificate for 127.0.0.1 / localhost."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="aiready-test-ca-")
        folder = Path(self._dir.name)
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = self._ca_certificate(ca_key, now)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._server_certificate(key, ca_key, ca_cert, now)
        self.pem_path = str(folder / "ca.pem")
        self.cert_path = str(folder / "server.pem")
        self.key_path = str(folder / "server.key")
        Path(self.pem_path).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        Path(self.cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        Path(self.key_path).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    @staticmethod
    def _ca_certificate(
        key: ec.EllipticCurvePrivateKey, now: datetime.datetime
    ) -> x509.Certificate:
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        return (
            x509.CertificateBuilder()
            .subject_name(_name("AI Ready test CA"))
            .issuer_name(_name("AI Ready test CA"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )

    @staticmethod
    def _server_certificate(
        key: ec.EllipticCurvePrivateKey,
        ca_key: ec.EllipticCurvePrivateKey,
        ca_cert: x509.Certificate,
        now: datetime.datetime,
    ) -> x509.Certificate:
        san = x509.SubjectAlternativeName(
            [
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.DNSName("localhost"),
                # Local servers can pose as the real services behind a tunnelling proxy
                # (tests/support/tunnel.py), so production settings run unchanged in tests.
                *(x509.DNSName(host) for host in POSED_HOSTS),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )

    def server_context(self) -> ssl.SSLContext:
        """TLS context for a local server."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """TLS context for a client that trusts this CA (and nothing else)."""
        return ssl.create_default_context(cafile=self.pem_path)

    def cleanup(self) -> None:
        self._dir.cleanup()


# --- a server on its own loop, in its own thread -----------------------------------------


class ServerThread:
    """Runs an aiohttp app over HTTPS on 127.0.0.1 in a dedicated thread and event loop."""

    def __init__(self, make_app: Callable[[], web.Application], tls: ssl.SSLContext) -> None:
        self._make_app = make_app
        self._tls = tls
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-server", daemon=True)
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._thread.start()
        self._loop.call_soon_threadsafe(self._loop.create_task, self._serve(sock))
        if not self._ready.wait(10):
            raise RuntimeError("local server did not start")
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._runner = web.AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        server = self._runner.server
        assert server is not None
        # asyncio's own server (not aiohttp's site) so that stopping can drop every client
        # connection, including one still in its TLS handshake, which aiohttp doesn't track.
        self._server = await self._loop.create_server(server, sock=sock, ssl=self._tls)
        self._ready.set()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        if self._server is not None:
            self._server.close()
            abort = getattr(self._server, "abort_clients", None)  # Python 3.13+
            if abort is not None:
                abort()
        if self._runner is not None:
            self._loop.run_until_complete(self._runner.cleanup())
        self._loop.run_until_complete(asyncio.sleep(0))  # let the aborted transports go
        self._loop.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# --- Entra-style responses --------------------------------------------------------------

# name -> (status, error, AADSTS code, message); messages as Entra words them.
_ENTRA_ERRORS: dict[str, tuple[int, str, int, str]] = {
    "unavailable": (
        503, "temporarily_unavailable", 90033,
        "A transient error has occurred. Please try again.",
    ),
    "invalid_tenant": (
        400, "invalid_tenant", 90002,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are"
        " signing into the correct cloud.",
    ),
    "unknown_client": (
        400, "unauthorized_client", 700016,
        "Application with identifier '{client}' was not found in the directory.",
    ),
    "no_secret": (
        401, "invalid_client", 7000218,
        "The request body must contain the following parameter: 'client_assertion' or"
        " 'client_secret'.",
    ),
    "bad_secret": (
        401, "invalid_client", 7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the"
        " client secret value, not the client secret ID, for a secret added to app '{client}'.",
    ),
    "unsupported_grant": (
        400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.",
    ),
    "tenant_required": (
        400, "invalid_request", 90009,
        "Application is requesting a token for itself. This scenario is supported only if"
        " resource is specified using the GUID based App Identifier.",
    ),
    "client_scope": (
        400, "invalid_scope", 1002012,
        "The provided value for scope {scope} is not valid. Client credential flows must have a"
        " scope value with /.default suffixed to the resource identifier (application ID URI).",
    ),
    "bad_scope": (
        400, "invalid_scope", 70011,
        "The provided value for the input parameter 'scope' is not valid.",
    ),
    "two_resources": (
        400, "invalid_scope", 28000,
        "Provided value for the input parameter scope is not valid because it contains more"
        " than one resource.",
    ),
    "obo_use": (
        400, "invalid_request", 50027,
        "The request must contain requested_token_use=on_behalf_of for this grant.",
    ),
    "assertion_key": (
        400, "invalid_grant", 50013,
        "Assertion failed signature validation. [Reason - The key was not found.]",
    ),
    "assertion_signature": (
        400, "invalid_grant", 50013, "Assertion failed signature validation.",
    ),
    "assertion_expired": (
        400, "invalid_grant", 500133, "Assertion is not within its valid time range.",
    ),
    "assertion_malformed": (
        400, "invalid_grant", 50027, "JWT token is invalid or is malformed.",
    ),
    "assertion_audience": (
        400, "invalid_grant", 500131,
        "Assertion audience does not match the Client app presenting the assertion.",
    ),
    "assertion_app_only": (
        400, "invalid_grant", 50013,
        "Assertion is not a delegated (user) token and cannot be used on behalf of a user.",
    ),
    "refresh_invalid": (
        400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.",
    ),
    "no_consent": (
        400, "invalid_grant", 65001,
        "The user or administrator has not consented to use the application.",
    ),
}  # fmt: skip
_AUTH_METHODS = ["client_secret_post", "private_key_jwt", "client_secret_basic"]
_CLAIMS_SUPPORTED = [
    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
    "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
    "name", "tid", "ver", "at_hash", "c_hash", "email",
]  # fmt: skip
_NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


class TokenRefused(Exception):
    """A request the IdP refuses, by ``_ENTRA_ERRORS`` name; ``details`` fill the message."""

    def __init__(self, name: str, **details: str) -> None:
        status, error, code, message = _ENTRA_ERRORS[name]
        super().__init__(error)
        self.status, self.error, self.code = status, error, code
        self.message = message.format(**details)


def entra_error(request: web.Request, refused: TokenRefused) -> web.Response:
    """An error response shaped as Entra ID's token endpoint sends it."""
    trace_id = str(uuid.uuid4())
    correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    timestamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": refused.error,
        "error_description": (
            f"AADSTS{refused.code}: {refused.message} Trace ID: {trace_id} Correlation ID:"
            f" {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [refused.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{request.url.origin()}/error?code={refused.code}",
    }
    return web.json_response(body, status=refused.status, headers=_NO_STORE)


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _split_scopes(scope: str) -> tuple[str, list[str], set[str]]:
    """(resource, its scope names, OIDC scopes) of a v2.0 ``scope`` parameter."""
    resource_scopes: dict[str, list[str]] = {}
    oidc = set()
    for item in scope.split():
        if item in _OIDC_SCOPES:
            oidc.add(item)
            continue
        resource, _, name = item.rpartition("/")
        resource_scopes.setdefault(resource or GRAPH, []).append(name)
    if not resource_scopes:
        raise TokenRefused("bad_scope")
    if len(resource_scopes) > 1:
        raise TokenRefused("two_resources")
    ((resource, names),) = resource_scopes.items()
    return resource, names, oidc


@dataclass
class _RefreshGrant:
    client_id: str
    tenant: str
    user: dict[str, Any]
    resource: str
    scopes: list[str]


# --- the identity provider ---------------------------------------------------------------


@dataclass
class LocalIdentityProvider:
    """State and behaviour of the local Entra ID; ``start()`` serves it over HTTPS."""

    ca: TestCA
    keys: list[SigningKey] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    grants: Counter[str] = field(default_factory=Counter)
    delays: dict[str, float] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)
    token_lifetime: int = 3599
    _refresh: dict[str, _RefreshGrant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ServerThread | None = None

    # -- lifecycle and test controls

    def start(self) -> LocalIdentityProvider:
        if not self.keys:
            self.add_key()
        self._server = ServerThread(self._app, self.ca.server_context()).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        """The authority host, in place of ``https://login.microsoftonline.com``."""
        assert self._server is not None, "not started"
        return self._server.url

    def reset(self) -> None:
        """Forget counters, delays, outages, refresh tokens; keep only the first key."""
        with self._lock:
            self.token_lifetime = 3599
            self.requests.clear()
            self.grants.clear()
            self.delays.clear()
            self.unavailable.clear()
            self._refresh.clear()
            del self.keys[1:]

    def register_client(self, client_id: str, secret: str) -> None:
        """An app registration with a client secret."""
        self.clients[client_id] = secret

    def add_key(self, kid: str | None = None) -> SigningKey:
        """Publish a new signing key; tokens are signed with the newest one from now on."""
        key = SigningKey(kid or secrets.token_urlsafe(16))
        with self._lock:
            self.keys.append(key)
        return key

    @property
    def signing_key(self) -> SigningKey:
        return self.keys[-1]

    def issuer(self, tenant: str) -> str:
        """The v2.0 issuer for a tenant."""
        return f"{self.url}/{tenant}/v2.0"

    def jwks(self, tenant: str = "{tenantid}") -> dict[str, Any]:
        """The published key set, each key shaped as in Entra's JWKS."""
        return {"keys": [{**k.jwk(), "issuer": self.issuer(tenant)} for k in self.keys]}

    # -- tokens

    def sso_token(
        self,
        tenant: str,
        oid: str,
        name: str,
        /,
        *,
        aud: str,
        scp: str = "access_as_user",
        lifetime: int = 3600,
        key: SigningKey | None = None,
        **overrides: Any,
    ) -> str:
        """A v2.0 access token for the app's API, as Teams' ``getAuthToken()`` returns.

        ``overrides`` replace or add claims (``oid``, ``tid``, ``name`` too); a claim
        overridden with ``None`` is removed.
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": aud,
            "iss": self.issuer(tenant),
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + lifetime,
            "aio": secrets.token_urlsafe(24),
            "azp": TEAMS_WEB_CLIENT_ID,
            "azpacr": "0",
            "name": name,
            "oid": oid,
            "preferred_username": f"{oid[:8]}@contoso.example",
            "rh": secrets.token_urlsafe(12),
            "scp": scp,
            "sub": secrets.token_urlsafe(32),
            "tid": tenant,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return (key or self.signing_key).sign(claims, typ="JWT")

    def _sign(self, claims: dict[str, Any]) -> str:
        return self.signing_key.sign(claims, typ="JWT")

    # -- the HTTP app

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    async def _enter(self, endpoint: str, request: web.Request) -> web.Response | None:
        """Count, delay, and refuse the request if the endpoint is down or the tenant bad."""
        with self._lock:
            self.requests[endpoint] += 1
        delay = self.delays.get(endpoint, 0.0)
        if delay:
            await asyncio.sleep(delay)
        if endpoint in self.unavailable:
            return entra_error(request, TokenRefused("unavailable"))
        tenant = request.match_info["tenant"]
        if not (_GUID.match(tenant) or tenant in _ALIASES):
            return entra_error(request, TokenRefused("invalid_tenant", tenant=tenant))
        return None

    async def _discovery(self, request: web.Request) -> web.Response:
        if refused := await self._enter("discovery", request):
            return refused
        tenant = request.match_info["tenant"]
        host = f"https://{request.host}"  # answers as whichever host it was reached at
        base = f"{host}/{tenant}"
        issuer_tenant = "{tenantid}" if tenant in _ALIASES else tenant
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": _AUTH_METHODS,
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{host}/{issuer_tenant}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{GRAPH}/oidc/userinfo",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "claims_supported": _CLAIMS_SUPPORTED,
                "kerberos_endpoint": f"{base}/kerberos",
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        if refused := await self._enter("keys", request):
            return refused
        tenant = request.match_info["tenant"]
        return web.json_response(self.jwks(tenant if _GUID.match(tenant) else "{tenantid}"))

    async def _token(self, request: web.Request) -> web.Response:
        if refused := await self._enter("token", request):
            return refused
        form = await request.post()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        grant = data.get("grant_type", "")
        with self._lock:
            self.grants[grant] += 1
        try:
            client_id = self._authenticate_client(request, data)
            body = self._grant(request.match_info["tenant"], client_id, grant, data)
        except TokenRefused as problem:
            return entra_error(request, problem)
        return web.json_response(body, headers=_NO_STORE)

    def _authenticate_client(self, request: web.Request, data: dict[str, str]) -> str:
        """The client id, authenticated by a secret in the body or by HTTP Basic."""
        client_id, secret = data.get("client_id", ""), data.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id not in self.clients:
            raise TokenRefused("unknown_client", client=client_id)
        if secret is None:
            raise TokenRefused("no_secret")
        if not secrets.compare_digest(secret, self.clients[client_id]):
            raise TokenRefused("bad_secret", client=client_id)
        return client_id

    def _grant(
        self, tenant: str, client_id: str, grant: str, data: dict[str, str]
    ) -> dict[str, Any]:
        if grant == "client_credentials":
            return self._client_credentials(tenant, client_id, data)
        if grant == OBO_GRANT:
            return self._on_behalf_of(tenant, client_id, data)
        if grant == "refresh_token":
            return self._refresh_token(client_id, data)
        raise TokenRefused("unsupported_grant")

    def _client_credentials(
        self, tenant: str, client_id: str, data: dict[str, str]
    ) -> dict[str, Any]:
        if not _GUID.match(tenant):
            raise TokenRefused("tenant_required")
        scope = data.get("scope", "")
        if not scope.endswith("/.default") or len(scope.split()) != 1:
            raise TokenRefused("client_scope", scope=scope)
        resource = scope.removesuffix("/.default")
        sp_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{tenant}:{client_id}"))
        app_claims = {"idtyp": "app", "oid": sp_id, "sub": sp_id, "roles": []}
        return {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": self._sign(
                self._access_claims(tenant, client_id, resource) | app_claims
            ),
        }

    def _access_claims(self, tenant: str, client_id: str, resource: str) -> dict[str, Any]:
        """Claims of a v1.0 access token, as Entra issues them for Microsoft Graph."""
        now = int(time.time())
        return {
            "aud": resource,
            "iss": f"https://sts.windows.net/{tenant}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "appid": client_id,
            "appidacr": "1",
            "tid": tenant,
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
        }

    def _on_behalf_of(self, tenant: str, client_id: str, data: dict[str, str]) -> dict[str, Any]:
        if data.get("requested_token_use") != "on_behalf_of":
            raise TokenRefused("obo_use")
        user = self._check_assertion(data.get("assertion", ""), client_id)
        if _GUID.match(tenant) and user["tid"] != tenant:
            raise TokenRefused("assertion_key")
        resource, names, oidc = _split_scopes(data.get("scope", ""))
        grant = _RefreshGrant(client_id, user["tid"], user, resource, names)
        return self._user_tokens(grant, oidc, data)

    def _check_assertion(self, assertion: str, client_id: str) -> dict[str, Any]:
        """The user's claims from a valid assertion issued to ``client_id``, else invalid_grant."""
        try:
            header = jwt.get_unverified_header(assertion)
            key = next((k for k in self.keys if k.kid == header.get("kid")), None)
            if key is None or header.get("alg") != "RS256":
                raise TokenRefused("assertion_key")
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key.private.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("assertion_expired") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("assertion_signature") from None
        except jwt.PyJWTError:
            raise TokenRefused("assertion_malformed") from None
        aud = claims.get("aud")
        if not isinstance(aud, str) or not (aud == client_id or aud.endswith(f"/{client_id}")):
            raise TokenRefused("assertion_audience")
        if not claims.get("scp"):
            raise TokenRefused("assertion_app_only")
        return claims

    def _user_tokens(
        self, grant: _RefreshGrant, oidc: set[str], data: dict[str, str]
    ) -> dict[str, Any]:
        """Access token for the grant's resource and, as requested, refresh and ID tokens."""
        user, resource, names = grant.user, grant.resource, grant.scopes
        claims = self._access_claims(grant.tenant, grant.client_id, resource) | {
            "idtyp": "user",
            "oid": user["oid"],
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{resource}:{user['oid']}")),
            "name": user.get("name", ""),
            "upn": user.get("preferred_username", ""),
            "unique_name": user.get("preferred_username", ""),
            "scp": " ".join(sorted(n for n in names if n != ".default")) or "User.Read",
        }
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join([*(f"{resource}/{n}" for n in names), *sorted(oidc)]),
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": self._sign(claims),
        }
        if "offline_access" in oidc:
            refresh = secrets.token_urlsafe(48)
            with self._lock:
                self._refresh[refresh] = grant
            body["refresh_token"] = refresh
        if "openid" in oidc:
            body["id_token"] = self._id_token(grant.tenant, grant.client_id, user)
        if data.get("client_info") == "1":
            body["client_info"] = _b64({"uid": user["oid"], "utid": grant.tenant})
        return body

    def _id_token(self, tenant: str, client_id: str, user: dict[str, Any]) -> str:
        now = int(time.time())
        return self._sign(
            {
                "aud": client_id,
                "iss": self.issuer(tenant),
                "iat": now,
                "nbf": now,
                "exp": now + self.token_lifetime,
                "name": user.get("name", ""),
                "oid": user["oid"],
                "preferred_username": user.get("preferred_username", ""),
                "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{client_id}:{user['oid']}")),
                "tid": tenant,
                "ver": "2.0",
            }
        )

    def _refresh_token(self, client_id: str, data: dict[str, str]) -> dict[str, Any]:
        """Redeem a refresh token (once: Entra rotates them) for the same resource."""
        with self._lock:
            grant = self._refresh.pop(data.get("refresh_token", ""), None)
        if grant is None or grant.client_id != client_id:
            raise TokenRefused("refresh_invalid")
        resource, names, oidc = _split_scopes(data.get("scope", ""))
        if resource != grant.resource:
            raise TokenRefused("no_consent")
        renewed = _RefreshGrant(client_id, grant.tenant, grant.user, resource, names)
        return self._user_tokens(renewed, oidc, data)
