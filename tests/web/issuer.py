"""A real OpenID Connect issuer on a loopback port, for the sign-in tests: discovery, an authorization endpoint
that signs `user` in at once and redirects back, a token endpoint that checks the client, the code, the redirect
URI and PKCE, and the JWKS its RS256 tokens verify against."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

KID = "loopback-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    user: dict[str, Any]


@dataclass
class LoopbackIssuer:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    api_audience: str
    user: dict[str, Any] = field(default_factory=dict)
    id_token_nonce: str | None = None  # set to send a wrong nonce back
    port: int = field(default_factory=free_port)
    grants: dict[str, Grant] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    redeemed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.url = f"http://127.0.0.1:{self.port}"

    # -- endpoints --------------------------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id or query.get("redirect_uri") not in self.redirect_uris:
            return JSONResponse({"error": "invalid_request"}, 400)
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, 400)
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            self.client_id, query["redirect_uri"], query.get("nonce", ""), query["code_challenge"], dict(self.user)
        )
        back = urlencode({"code": code, "state": query.get("state", "")})
        return RedirectResponse(f"{query['redirect_uri']}?{back}", status_code=303)

    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if request.headers.get("authorization") != _basic(self.client_id, self.client_secret):
            return JSONResponse({"error": "invalid_client"}, 401)
        grant = self.grants.pop(str(form.get("code")), None)  # a code is good once
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown code"}, 400)
        verifier = str(form.get("code_verifier", ""))
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if digest != grant.challenge:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
        self.redeemed.append(verifier)
        now = int(time.time())
        id_claims = {
            "iss": self.url,
            "sub": grant.user["sub"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": self.id_token_nonce or grant.nonce,
        }
        access_claims = {
            "iss": self.url,
            "aud": self.api_audience,
            "iat": now,
            "exp": now + 300,
            **grant.user,
        }
        return JSONResponse(
            {"token_type": "Bearer", "id_token": self._sign(id_claims), "access_token": self._sign(access_claims)}
        )

    async def jwks(self, request: Request) -> Response:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return JSONResponse({"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]})

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})

    # -- serving ------------------------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    def serve(self) -> tuple[uvicorn.Server, threading.Thread]:
        server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the loopback issuer did not start")
            time.sleep(0.05)
        return server, thread


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
