"""Logins that yield (access token, instance URL): OAuth JWT bearer, OAuth password, SOAP password.

Why not only simple-salesforce's login: it always posts to `https://<domain>.salesforce.com`, so an
org reached through a configured `instance_url` (My Domain, a private endpoint, the sandbox) could
never log in again after its session expired. OAuth token requests go to the instance's own
`/services/oauth2/token`, as Salesforce documents for My Domain logins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import requests
from simple_salesforce import SalesforceLogin

from spm_sync.config import SalesforceSource
from spm_sync.errors import AuthError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME = timedelta(minutes=3)


def login_host(config: SalesforceSource) -> str:
    if config.instance_url is not None:
        return str(config.instance_url).rstrip("/")
    return f"https://{config.domain}.salesforce.com"


def jwt_assertion(config: SalesforceSource, now: datetime | None = None) -> str:
    """The signed JWT of the OAuth 2.0 JWT bearer flow (RS256, 3-minute expiry)."""
    if config.private_key is not None:
        key = config.private_key.get_secret_value()
    elif config.private_key_file is not None:
        key = config.private_key_file.read_text()
    else:
        raise AuthError("JWT login needs private_key or private_key_file", source=config.name)
    issued = now or datetime.now(UTC)
    claims = {
        "iss": config.consumer_key,
        "sub": config.username,
        "aud": f"https://{config.domain}.salesforce.com",
        "exp": int((issued + JWT_LIFETIME).timestamp()),
    }
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        raise AuthError("the JWT private key cannot sign (is it an RSA key in PEM form?)", source=config.name) from None


def token_request(session: requests.Session, config: SalesforceSource, form: dict[str, str]) -> tuple[str, str]:
    """POST the form to `/services/oauth2/token`; (access_token, instance_url) or AuthError."""
    response = session.post(f"{login_host(config)}/services/oauth2/token", data=form)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        reason = body.get("error") or response.status_code
        detail = body.get("error_description") or ""
        raise AuthError(f"login refused: {reason} {detail}".strip(), source=config.name)
    return body["access_token"], body.get("instance_url") or login_host(config)


def login(session: requests.Session, config: SalesforceSource) -> tuple[str, str]:
    """A fresh (access token, instance URL) from the configured credentials (not for session_id)."""
    if config.username and config.password is not None:
        password = config.password.get_secret_value()
        token = config.security_token.get_secret_value() if config.security_token else ""
        if config.instance_url is None:
            session_id, instance = SalesforceLogin(
                username=config.username, password=password, security_token=token, session=session,
                sf_version=config.api_version, domain=config.domain,
            )
            return session_id, f"https://{instance}"
        form = {"grant_type": "password", "username": config.username, "password": password + token}
        if config.consumer_key:
            form["client_id"] = config.consumer_key
        return token_request(session, config, form)
    return token_request(session, config, {"grant_type": JWT_GRANT, "assertion": jwt_assertion(config)})
