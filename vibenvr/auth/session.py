"""flask-login wiring: session users, token users, and CSRF only where a browser session is used."""

from flask import abort, g, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, ratelimit, sessions
from .tokens import token_from_request, user_for_token

login_manager = LoginManager()
csrf = CSRFProtect()

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@login_manager.user_loader
def load_user(session_id):
    """The cookie holds a random session id; its server-side record says whose it is (``auth.sessions``)."""
    return sessions.load(session_id)


@login_manager.request_loader
def load_user_from_token(req):
    plain = token_from_request(req)
    if plain is None:
        return None
    user = user_for_token(plain)
    if user is not None:
        g.auth_via_token = True
    return user


def init_app(app):
    """Sign-in, CSRF, the failed-login limiter and the ``users``/``tokens`` commands."""
    sessions.init_app(app)  # first: its before_request must run before anything reads current_user
    ratelimit.init_app(app)
    cli.init_app(app)
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    if proxies:
        # Behind N reverse proxies, the client's address (for the sign-in limits) and the scheme
        # come from their X-Forwarded-* headers; without this setting those headers are ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def _csrf_unless_token():
        """CSRF applies to every browser (session or anonymous) write; token-authenticated calls are exempt."""
        if request.method not in UNSAFE_METHODS:
            return
        if token_from_request(request) is not None:
            # A token call never rides on the session: a wrong token is a 401, not a session fallback.
            if current_user.is_authenticated and g.get("auth_via_token"):
                return
            abort(401)
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return  # no session to ride on: the view answers 401, which says more than a CSRF error
        csrf.protect()
