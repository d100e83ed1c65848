"""CSRF: every state-changing page route refuses a request without the token; token API calls are exempt."""

import pytest

from .test_auth_permissions import UNSAFE, routes
from builders import make_token
from conftest import sign_in


def _without_csrf(client):
    client.environ_base.pop("HTTP_X_CSRFTOKEN", None)
    return client


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_state_changing_page_route_needs_the_token(app, admin, who):
    failures = []
    for path, method, _endpoint, _access in routes(app):
        if method not in UNSAFE or path.startswith("/api/"):
            continue
        client = app.test_client() if who == "anonymous" else _without_csrf(sign_in(app.test_client(), admin))
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(
                path, method=method, data={"csrf_token": "forged"} if not headers else {}, headers=headers
            )
            if response.status_code != 400:
                failures.append(f"{who} {method} {path} {headers}: {response.status_code}")
            elif "security token" not in response.get_data(as_text=True):
                failures.append(f"{who} {method} {path}: 400 without the CSRF explanation")
    assert not failures, "\n".join(failures)


def test_every_state_changing_api_route_needs_the_token_with_a_session(app, admin):
    failures = []
    for path, method, _endpoint, _access in routes(app):
        if method not in UNSAFE or not path.startswith("/api/"):
            continue
        client = _without_csrf(sign_in(app.test_client(), admin))
        response = client.open(path, method=method, json={})
        if response.status_code != 400 or "CSRF" not in response.get_json()["error"]:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_token_authenticated_calls_are_exempt(app, admin):
    client = app.test_client()
    response = client.post(
        "/api/groups", json={"name": "Garden"}, headers={"Authorization": f"Bearer {make_token(admin)}"}
    )
    assert response.status_code == 201


def test_a_wrong_token_is_401_not_a_session_fallback(app, admin):
    client = sign_in(app.test_client(), admin)
    response = client.post("/api/groups", json={"name": "Garden"}, headers={"X-API-Key": "vnvr_wrong"})
    assert response.status_code == 401


def test_the_page_carries_the_token_in_hx_headers(admin_client):
    html = admin_client.get("/security").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
