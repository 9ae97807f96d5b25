"""An example web application that signs people in with this service as its OpenID Connect
provider, built only on a standard OIDC library (authlib) and Python's standard library
(http.server): nothing in it knows it talks to a passwordless service.

    python app.py --issuer http://127.0.0.1:9011/<tenantId> --client-id <applicationId> \
        --client-secret <secret> [--port 9013]

"Sign in" sends the browser to the provider's hosted pages (found by discovery at
{issuer}/.well-known/openid-configuration) with PKCE (S256), a nonce and a state; the redirect
back to /callback is exchanged for tokens, the id token verified against the provider's JWKS, and
the signed-in person's id token claims and userinfo are shown. "Sign out" ends the provider's
session through its end_session_endpoint (RP-initiated logout) and comes back to /signed-out.
/login?prompt=none asks the provider whether the browser is still signed in, without a page.

The app's own session is an in-memory dict behind a random cookie: an example, not a production
session store. `make dev` starts it on http://127.0.0.1:9013 (EXAMPLE_PORT) for the demo tenant.
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import threading
import urllib.parse
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from authlib.integrations.base_client import (
    BaseApp,
    FrameworkIntegration,
    OAuth2Mixin,
    OAuthError,
    OpenIDMixin,
)
from authlib.integrations.requests_client import OAuth2Session

SESSION_COOKIE = "example_app_session"


class OpenIDClient(OAuth2Mixin, OpenIDMixin, BaseApp):
    """authlib's OpenID Connect client, as its Flask, Django and Starlette integrations assemble
    it, here without a web framework."""

    client_cls = OAuth2Session


class NoFramework(FrameworkIntegration):
    def update_token(self, token, refresh_token=None, access_token=None):
        pass  # the tokens are kept in this app's session


class Sessions:
    """The app's own sessions: cookie value -> dict."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, dict] = {}

    def get(self, sid: str | None) -> dict | None:
        with self._lock:
            return self._sessions.get(sid) if sid else None

    def new(self) -> tuple[str, dict]:
        sid = secrets.token_urlsafe(32)
        session: dict = {}
        with self._lock:
            self._sessions[sid] = session
        return sid, session

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem;
       color: #1f2937; line-height: 1.5 }}
h1 {{ font-size: 1.6rem }} table {{ border-collapse: collapse; width: 100% }}
td, th {{ border-bottom: 1px solid #e5e7eb; padding: .35rem .5rem; text-align: left;
          vertical-align: top; word-break: break-all }}
th {{ width: 12rem; color: #4b5563; font-weight: 600 }}
.button {{ display: inline-block; padding: .6rem 1.2rem; background: #2563eb; color: #fff;
           border: 0; border-radius: 6px; font-size: 1rem; text-decoration: none; cursor: pointer }}
.error {{ color: #b91c1c }}
</style></head>
<body><p>Example app &middot; signs in with {issuer}</p>{body}</body></html>"""


def table(claims: dict, caption: str) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v) if not isinstance(v, str) else v)}</td></tr>"
        for k, v in sorted(claims.items()))
    return f'<h2>{html.escape(caption)}</h2><table id="{caption.split()[0].lower()}">{rows}</table>'


def make_handler(client: OpenIDClient, origin: str, sessions: Sessions, issuer: str):
    redirect_uri = f"{origin}/callback"
    signed_out_uri = f"{origin}/signed-out"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet: no codes or tokens in a log
            pass

        # --- plumbing
        def session(self) -> tuple[str | None, dict | None]:
            cookie = SimpleCookie(self.headers.get("Cookie") or "")
            sid = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
            return sid, sessions.get(sid)

        def send(self, status: int, title: str, body: str, cookie: str | None = None) -> None:
            page = PAGE.format(title=html.escape(title), issuer=html.escape(issuer), body=body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(page)))
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(page)

        def redirect(self, url: str, cookie: str | None = None) -> None:
            self.send_response(303)
            self.send_header("Location", url)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", "0")
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()

        # --- routes
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            route = {"/": self.home, "/login": self.login, "/callback": self.callback,
                     "/logout": self.logout, "/signed-out": self.signed_out}.get(url.path)
            if route is None:
                self.send(404, "Not found", "<h1>Not found</h1>")
                return
            try:
                route(query)
            except OAuthError as error:  # the provider refused (token endpoint, userinfo)
                self.failed(400, f"{error.error}: {error.description or ''}")
            except requests.RequestException as error:  # the provider could not be reached
                self.failed(502, f"the provider did not answer: {type(error).__name__}")
            except Exception as error:  # noqa: BLE001 - e.g. an id token authlib refused
                self.failed(400, f"{type(error).__name__}: {error}")

        def failed(self, status: int, reason: str) -> None:
            self.send(status, "Sign-in failed", '<h1>Sign-in failed</h1><p class="error" role="alert">'
                      f'{html.escape(reason)}</p><p><a class="button" href="/login">Sign in</a></p>')

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if urllib.parse.urlsplit(self.path).path == "/logout":
                self.logout({})
            else:
                self.send(404, "Not found", "<h1>Not found</h1>")

        def home(self, _query):
            _, session = self.session()
            user = (session or {}).get("user")
            if not user:
                self.send(200, "Example app", '<h1>Welcome</h1><p>You are not signed in.</p>'
                          '<p><a class="button" id="sign-in" href="/login">Sign in</a></p>')
                return
            body = (f'<h1>Signed in as <span id="email">{html.escape(user["claims"].get("email", user["claims"]["sub"]))}</span></h1>'
                    '<form method="post" action="/logout"><button class="button" id="sign-out" type="submit">'
                    "Sign out</button></form>"
                    + table(user["claims"], "ID token claims") + table(user["userinfo"], "Userinfo response"))
            self.send(200, "Example app: signed in", body)

        def login(self, query):
            sid, session = self.session()
            cookie = None
            if session is None:
                sid, session = sessions.new()
                cookie = f"{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"
            extra = {"prompt": query["prompt"]} if query.get("prompt") in ("none", "login") else {}
            request = client.create_authorization_url(redirect_uri, **extra)
            session.setdefault("requests", {})[request["state"]] = {
                "code_verifier": request["code_verifier"], "nonce": request["nonce"]}
            self.redirect(request["url"], cookie)

        def callback(self, query):
            _, session = self.session()
            pending = (session or {}).get("requests", {}).pop(query.get("state", ""), None)
            if pending is None:
                self.send(400, "Sign-in failed", '<h1>Sign-in failed</h1><p class="error" role="alert">'
                          "This sign-in was not started here (unknown state).</p>")
                return
            if "error" in query:
                self.send(200, "Not signed in", f'<h1>Not signed in</h1><p class="error" role="alert" id="error">'
                          f'{html.escape(query["error"])}</p><p>{html.escape(query.get("error_description", ""))}</p>'
                          '<p><a class="button" id="sign-in" href="/login">Sign in</a></p>')
                return
            token = client.fetch_access_token(
                redirect_uri, authorization_response=f"{origin}{self.path}", state=query["state"],
                code_verifier=pending["code_verifier"])
            claims = client.parse_id_token(token, nonce=pending["nonce"])
            userinfo = client.userinfo(token=token)
            session["user"] = {"token": dict(token), "claims": dict(claims), "userinfo": dict(userinfo)}
            self.redirect("/")

        def logout(self, _query):
            sid, session = self.session()
            user = (session or {}).get("user")
            sessions.drop(sid)
            expired = f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
            if not user:
                self.redirect("/", expired)
                return
            logout = client.create_logout_url(post_logout_redirect_uri=signed_out_uri,
                                              id_token_hint=user["token"]["id_token"])
            self.redirect(logout["url"], expired)

        def signed_out(self, _query):
            self.send(200, "Signed out", "<h1>You are signed out</h1>"
                      '<p><a class="button" id="sign-in" href="/login">Sign in again</a></p>')

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="An OpenID Connect example app (authlib)")
    parser.add_argument("--issuer", required=True, help="the tenant's issuer, e.g. http://127.0.0.1:9011/<tenantId>")
    parser.add_argument("--client-id", required=True, help="the application's id")
    parser.add_argument("--client-secret", required=True, help="the application's client secret")
    parser.add_argument("--port", type=int, default=9013)
    args = parser.parse_args()
    origin = f"http://127.0.0.1:{args.port}"
    client = OpenIDClient(
        NoFramework("example"), "example",
        client_id=args.client_id, client_secret=args.client_secret,
        server_metadata_url=f"{args.issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile offline_access", "code_challenge_method": "S256"},
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(client, origin, Sessions(), args.issuer))
    print(f"example app on {origin}/ (signs in with {args.issuer})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
