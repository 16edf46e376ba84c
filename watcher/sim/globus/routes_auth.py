"""Auth routes: authorize (auto-approved), token (code, refresh, client credentials), revoke,
introspect, validate, userinfo and identities.

`GET /v2/oauth2/authorize` approves at once as `emulator_user` (default "alice"): with a
redirect URI it redirects there with `code` and `state`, and for the native-app default
(`<auth url>/v2/web/auth-code`, which the SDK derives from the auth base URL) it shows the code
on a page, as Globus does, and in an `X-Emulator-Code` header for scripts.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode, urlsplit

from watcher.sim.globus.auth import OAuthError
from watcher.sim.globus.emulator import Emulator
from watcher.sim.globus.routing import Request, Response, Router
from watcher.sim.globus.scopes import AUTH_RS

ROUTES = Router("auth")
NATIVE_CODE_PAGE = "/v2/web/auth-code"
_CODE_PARAMS = ("client_id", "redirect_uri", "scope", "state", "code_challenge",
                "code_challenge_method", "access_type")


@ROUTES.route("GET", "/v2/oauth2/authorize")
def authorize(emu: Emulator, req: Request) -> Response:
    """Grant a code at once for `emulator_user` (default alice) and redirect, as after a login."""
    params = {name: req.arg(name) or "" for name in _CODE_PARAMS}
    if not params["client_id"] or not params["scope"]:
        return Response(400, "<p>client_id and scope are required</p>")
    with emu.mutate():
        identity = emu.tokens.identity(req.arg("emulator_user") or "alice")
        code = emu.tokens.authorize(identity["id"], params)
    redirect = params["redirect_uri"]
    if redirect and urlsplit(redirect).path != NATIVE_CODE_PAGE:
        sep = "&" if "?" in redirect else "?"
        target = f"{redirect}{sep}{urlencode({'code': code, 'state': params['state']})}"
        return Response(302, "", {"Location": target})
    page = (f"<html><body><p>Emulated Globus login as {html.escape(identity['username'])}."
            f"</p><p>Native App Authorization Code:</p><code id=\"code\">{code}</code>"
            "</body></html>")
    return Response(200, page, {"X-Emulator-Code": code})


@ROUTES.route("POST", "/v2/oauth2/token")
def token(emu: Emulator, req: Request) -> Response:
    """The authorization_code, refresh_token and client_credentials grants."""
    form = req.form()
    client_id, secret = _client(req, form)
    grant = form.get("grant_type")
    with emu.mutate():
        if secret is not None:
            emu.tokens.check_client(client_id, secret)
        if grant == "authorization_code":
            answer = emu.tokens.exchange_code(form.get("code", ""), client_id,
                                              form.get("redirect_uri", ""),
                                              form.get("code_verifier"))
        elif grant == "refresh_token":
            answer = emu.tokens.refresh(form.get("refresh_token", ""), client_id)
        elif grant == "client_credentials":
            if secret is None:
                raise OAuthError("invalid_client", 401)
            answer = emu.tokens.client_credentials(client_id, secret, form.get("scope", ""))
        else:
            raise OAuthError("unsupported_grant_type")
    return Response(200, answer)


@ROUTES.route("POST", "/v2/oauth2/token/revoke")
def revoke(emu: Emulator, req: Request) -> Response:
    """RFC 7009: revoking an unknown token still succeeds."""
    with emu.mutate():
        emu.tokens.revoke(req.form().get("token", ""))
    return Response(200, {"active": False})


@ROUTES.route("POST", "/v2/oauth2/token/introspect")
def introspect(emu: Emulator, req: Request) -> Response:
    """RFC 7662 token introspection (see `TokenStore.introspect`)."""
    with emu.lock:
        return Response(200, emu.tokens.introspect(req.form().get("token", "")))


@ROUTES.route("POST", "/v2/oauth2/token/validate")
def validate(emu: Emulator, req: Request) -> Response:
    """Only whether the token is active, as Globus Auth's validate answers."""
    with emu.lock:
        active = emu.tokens.introspect(req.form().get("token", ""))["active"]
    return Response(200, {"active": active})


@ROUTES.route("GET", "/v2/oauth2/userinfo")
def userinfo(emu: Emulator, req: Request) -> Response:
    """OpenID Connect userinfo of the bearer token's identity; 401 for a dead token."""
    with emu.lock:
        identity = _identity(emu, req)
    return Response(200, {
        "sub": identity["id"], "preferred_username": identity["username"],
        "name": identity["name"], "email": identity["email"],
        "identity_provider": identity["identity_provider"],
        "identity_provider_display_name": "watcher emulator",
        "organization": identity["organization"], "last_authentication": None,
        "identity_set": [{**identity, "sub": identity["id"]}],
    })


@ROUTES.route("GET", "/v2/api/identities")
def identities(emu: Emulator, req: Request) -> Response:
    """Identities by `ids` or `usernames` (comma-separated, repeatable); needs an Auth token."""
    wanted = [v for name in ("ids", "usernames") for arg in req.query.get(name, [])
              for v in arg.split(",") if v]
    with emu.lock:
        _identity(emu, req)
        found = [emu.tokens.find_identity(v) for v in wanted]
    return Response(200, {"identities": found})


def _identity(emu: Emulator, req: Request) -> dict[str, str]:
    token = emu.tokens.valid(req.bearer or "", AUTH_RS)
    if token is None:
        raise OAuthError("invalid_token", 401)
    return emu.tokens.identities[token.identity_id]


def _client(req: Request, form: dict[str, str]) -> tuple[str, str | None]:
    """Confidential clients use HTTP Basic; native clients send only `client_id`."""
    basic = req.basic
    if basic is not None:
        return basic
    if form.get("client_secret"):
        return form.get("client_id", ""), form["client_secret"]
    if not form.get("client_id"):
        raise OAuthError("invalid_client", 401)
    return form["client_id"], None
