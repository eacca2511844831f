"""Accounts through the real app: sign-in throttling (per account, per address, device
cookies, trusted proxies), server-side sessions, expiring and revocable tokens, password
resets, disabling users, and ``Cache-Control: no-store``.

Time is the app's injectable clock, moved by hand: no test waits or depends on speed.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from server_helpers import PASSWORD, audit_head, csrf_of, sign_in

from commonplan.errors import AuthenticationError
from commonplan.server import Settings, create_app
from commonplan.server.limits import client_address, parse_networks
from commonplan.services import accounts, assemblies, queries
from commonplan.services.roles import Actor
from commonplan.store.models import utcnow


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite here; test_accounts_postgres runs the throttle and sessions on PostgreSQL."""
    return "sqlite"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_app(world, clock, **settings):
    values = dict(
        secret_key="accounts-test",
        login_attempts=3,
        login_address_attempts=100,
        login_delay_s=30,
        login_max_delay_s=240,
        login_window_s=900,
        token_cache_s=0,
    )
    values.update(settings)
    return create_app(Settings(**values), database=world.database, clock=clock)


def new_user(world, role: str = "member") -> tuple[str, int]:
    name = f"u{secrets.token_hex(4)}"
    return name, accounts.create_user(world.database, Actor.system(), name, PASSWORD, role).id


_HOSTS = itertools.count(1)


def fresh_address() -> str:
    """An address no earlier test used (counters live in the module's database)."""
    k = next(_HOSTS)
    return f"198.51.{100 + k // 250}.{k % 250 + 1}"


def client_at(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def attempt(client, username, password=PASSWORD, **kwargs):
    return client.post(
        "/api/v1/tokens", json={"username": username, "password": password}, **kwargs
    )


# --- sign-in throttling ----------------------------------------------------------------------


def test_account_back_off_doubles_then_forgives(world):
    clock = Clock()
    app = make_app(world, clock)
    name, _ = new_user(world)
    with client_at(app, fresh_address()) as client:
        for _ in range(3):
            assert attempt(client, name, "wrong-password").status_code == 401
        blocked = attempt(client, name)  # even the right password must wait
        assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "30"
        clock.advance(29)
        assert attempt(client, name).headers["Retry-After"] == "1"
        clock.advance(1)
        assert attempt(client, name, "wrong-password").status_code == 401
        doubled = attempt(client, name)
        assert doubled.status_code == 429 and doubled.headers["Retry-After"] == "60"
        clock.advance(60)
        assert attempt(client, name).status_code == 201
        # a success clears the account's failures
        for _ in range(2):
            assert attempt(client, name, "wrong-password").status_code == 401
        clock.advance(1000)  # and failures are forgotten after the window
        for _ in range(3):
            assert attempt(client, name, "wrong-password").status_code == 401


def test_concurrent_wrong_passwords_are_counted_before_the_hash(world, monkeypatch):
    """40 simultaneous wrong passwords for one account: 3 hash checks (the allowance), 37 × 429."""
    checks = []
    real_verify = accounts.verify_password

    def counting_verify(stored, password):
        checks.append(password)
        return real_verify(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counting_verify)
    app = make_app(world, Clock())
    name, _ = new_user(world)
    statuses: list[int] = []
    start = threading.Barrier(40)
    with client_at(app, fresh_address()) as client:

        def one() -> None:
            start.wait()
            statuses.append(attempt(client, name, "wrong-password").status_code)

        threads = [threading.Thread(target=one) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [401] * 3 + [429] * 37
    assert len(checks) == 3


def test_one_password_across_many_accounts_is_limited_per_address(world):
    """Password spraying: the address's allowance runs out whatever user names it tries."""
    app = make_app(world, Clock(), login_address_attempts=6)
    names = [new_user(world)[0] for _ in range(8)]
    with client_at(app, fresh_address()) as sprayer:
        statuses = [attempt(sprayer, n, "Summer2026!").status_code for n in names]
        assert statuses == [401] * 6 + [429] * 2
        fresh, _ = new_user(world)
        assert attempt(sprayer, fresh).status_code == 429  # no device cookie: must wait too
    with client_at(app, fresh_address()) as elsewhere:  # other addresses are not affected
        assert attempt(elsewhere, names[0]).status_code == 201


def test_others_failures_on_a_shared_address_do_not_lock_out_the_owner(world):
    """Behind a proxy everyone shares one address. The owner, who signed in from this
    browser before, still signs in while someone else fails on their account and address."""
    app = make_app(world, Clock(), login_address_attempts=6)
    name, _ = new_user(world)
    shared = fresh_address()
    with client_at(app, shared) as owner, client_at(app, shared) as attacker:
        assert attempt(owner, name).status_code == 201  # the owner's browser gets a device cookie
        assert owner.cookies.get("commonplan_device")
        statuses = [attempt(attacker, name, f"guess-{k}").status_code for k in range(10)]
        assert statuses == [401] * 3 + [429] * 7
        assert attempt(attacker, name).status_code == 429  # the account waits for strangers
        assert attempt(owner, name).status_code == 201
        sign_in(owner, name)  # the sign-in page too
        # a device cookie is for its own account only: it does not lift others' limits
        other, _ = new_user(world)
        for _ in range(6):
            attempt(attacker, other, "wrong-password")
        owner_cookie = owner.cookies.get("commonplan_device")
        with client_at(app, shared) as borrowed:
            borrowed.cookies.set("commonplan_device", owner_cookie)
            assert attempt(borrowed, other).status_code == 429


def test_forwarded_addresses_are_believed_from_trusted_proxies_only(world):
    app = make_app(world, Clock(), login_address_attempts=3, trusted_proxies=("10.0.0.0/8",))
    names = [new_user(world)[0] for _ in range(4)]
    with client_at(app, "10.1.2.3") as proxy:
        for n in names[:3]:
            forwarded = {"X-Forwarded-For": "192.0.2.50"}
            assert attempt(proxy, n, "wrong-password", headers=forwarded).status_code == 401
        assert (
            attempt(proxy, names[3], headers={"X-Forwarded-For": "192.0.2.50"}).status_code == 429
        )
        # another client behind the same proxy is counted apart
        assert (
            attempt(proxy, names[3], headers={"X-Forwarded-For": "192.0.2.51"}).status_code == 201
        )
    with client_at(app, "192.0.2.99") as direct:  # not a proxy: its header is ignored
        for k, n in enumerate(names[:3]):
            spoofed = {"X-Forwarded-For": f"198.18.0.{k}"}
            assert attempt(direct, n, "wrong-password", headers=spoofed).status_code == 401
        assert attempt(direct, names[3], headers={"X-Forwarded-For": "198.18.0.9"}).status_code == (
            429
        )


def test_client_address_walks_the_trusted_chain():
    trusted = parse_networks(["10.0.0.0/8", "::1"])
    assert client_address("192.0.2.1", ["203.0.113.1"], trusted) == "192.0.2.1"
    assert client_address("10.0.0.1", ["203.0.113.1"], trusted) == "203.0.113.1"
    # the client may prepend lies; only the hop the trusted proxy saw counts
    assert client_address("10.0.0.1", ["1.1.1.1, 203.0.113.1, 10.0.0.7"], trusted) == "203.0.113.1"
    assert client_address("::1", ["203.0.113.1", "10.9.9.9"], trusted) == "203.0.113.1"
    assert client_address("10.0.0.1", [], trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", ["not-an-address"], trusted) == "10.0.0.1"
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/33"])


# --- sessions --------------------------------------------------------------------------------


def _member(world) -> str:
    name, user_id = new_user(world)
    assemblies.add_membership(world.database, Actor.system(), world.council_ids[0], user_id)
    return name


def _ballot_with(app, cookie: str, round_id: int):
    """Post a ballot form with a saved session cookie, as a thief who copied it would."""
    with TestClient(app) as thief:
        thief.cookies.set("commonplan_session", cookie)
        token = csrf_of(thief.get(f"/ballot?round={round_id}").text)
        return thief.post(
            "/ballot",
            data={"points:food": "60", "points:housing": "40", "csrf_token": token},
            follow_redirects=False,
        )


def test_a_cookie_saved_before_sign_out_is_refused_afterwards(world):
    app = make_app(world, Clock())
    name = _member(world)
    round_id = world.open_round("Stale cookie", ("food", "housing"))
    with TestClient(app) as browser:
        sign_in(browser, name)
        saved = browser.cookies.get("commonplan_session")
        page = browser.get("/ballot")
        assert 'name="points:food"' in page.text  # signed in: the form is there
        logout = browser.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert logout.status_code == 200  # followed to /login
    before = audit_head(world)
    refused = _ballot_with(app, saved, round_id)
    assert refused.status_code == 401, refused.text
    assert audit_head(world) == before, "the stale cookie cast a ballot"


@pytest.mark.parametrize("how", ["disable", "reset", "expire"])
def test_sessions_end_when_the_account_is_disabled_or_reset_or_the_session_expires(world, how):
    clock = Clock()
    app = make_app(world, clock, session_max_age_s=3600)
    name = _member(world)
    user_id = accounts.find_user(world.database, name).id
    round_id = world.open_round(f"Ended session {how}", ("food", "housing"))
    with TestClient(app) as browser:
        sign_in(browser, name)
        saved = browser.cookies.get("commonplan_session")
    if how == "disable":
        accounts.set_user_active(world.database, Actor.system(), user_id, False)
    elif how == "reset":
        accounts.set_password(world.database, Actor.system(), user_id, "a brand new password")
    else:
        clock.advance(3600)
    before = audit_head(world)
    assert _ballot_with(app, saved, round_id).status_code == 401
    assert audit_head(world) == before


def test_a_live_session_casts_its_ballot(world):
    """The other half: the same saved cookie works while the session lives."""
    app = make_app(world, Clock())
    name = _member(world)
    round_id = world.open_round("Live session", ("food", "housing"))
    with TestClient(app) as browser:
        sign_in(browser, name)
        saved = browser.cookies.get("commonplan_session")
    assert _ballot_with(app, saved, round_id).status_code == 303


# --- tokens, passwords, users ------------------------------------------------------------------


def _token(client, username, password=PASSWORD, **body):
    response = client.post(
        "/api/v1/tokens", json={"username": username, "password": password, **body}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_expire_and_are_revoked_by_their_owner_or_an_administrator(world):
    app = make_app(world, Clock(), token_max_age_s=7 * 24 * 3600)
    name, _ = new_user(world)
    with TestClient(app) as client:
        before = utcnow()
        default = _token(client, name)
        after = utcnow()
        expires = default["expires_at"]
        from datetime import datetime

        moment = datetime.fromisoformat(expires)
        assert before + timedelta(days=7) <= moment <= after + timedelta(days=7)
        capped = _token(client, name, expires_in_s=10 * 24 * 3600)  # capped at the maximum
        assert datetime.fromisoformat(capped["expires_at"]) <= utcnow() + timedelta(days=7)
        short = _token(client, name, expires_in_s=3600)
        assert datetime.fromisoformat(short["expires_at"]) <= utcnow() + timedelta(hours=1)

        listed = client.get("/api/v1/tokens", headers=_auth(default["token"])).json()
        assert [t["id"] for t in listed] == [default["id"], capped["id"], short["id"]]
        assert all("token" not in t for t in listed)

        # another member may not revoke it; the owner may
        stranger = _token(client, "m1")
        refused = client.delete(f"/api/v1/tokens/{short['id']}", headers=_auth(stranger["token"]))
        assert refused.status_code == 403
        own = client.delete(f"/api/v1/tokens/{short['id']}", headers=_auth(default["token"]))
        assert own.status_code == 204
        gone = client.get("/api/v1/me", headers=_auth(short["token"]))
        assert gone.status_code == 401 and "revoked" in gone.json()["message"]
        # an administrator may revoke anyone's
        admin = _token(client, "admin")
        assert (
            client.delete(
                f"/api/v1/tokens/{capped['id']}", headers=_auth(admin["token"])
            ).status_code
            == 204
        )
        assert client.get("/api/v1/me", headers=_auth(capped["token"])).status_code == 401
        assert client.get("/api/v1/me", headers=_auth(default["token"])).status_code == 200
    actions = [e.action for e in queries.audit_log(world.database, limit=20)]
    assert actions.count("token.revoke") >= 2


def test_disable_user_over_the_api(world):
    app = make_app(world, Clock())
    name, user_id = new_user(world)
    with TestClient(app) as client:
        token = _token(client, name)["token"]
        admin = _auth(_token(client, "admin")["token"])
        refused = client.post(
            f"/api/v1/users/{user_id}/active", json={"active": False}, headers=_auth(token)
        )
        assert refused.status_code == 403  # not one's own to decide
        disabled = client.post(
            f"/api/v1/users/{user_id}/active", json={"active": False}, headers=admin
        )
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        assert client.get("/api/v1/me", headers=_auth(token)).status_code == 401
        assert attempt(client, name).status_code == 401
        client.post(f"/api/v1/users/{user_id}/active", json={"active": True}, headers=admin)
        assert client.get("/api/v1/me", headers=_auth(token)).status_code == 200


def test_one_time_password_reset(world):
    app = make_app(world, Clock())
    name, user_id = new_user(world)
    with TestClient(app) as client:
        token = _token(client, name)["token"]
        admin = _auth(_token(client, "admin")["token"])
        assert (
            client.post(f"/api/v1/users/{user_id}/password-reset", headers=_auth(token)).status_code
            == 403
        )
        issued = client.post(f"/api/v1/users/{user_id}/password-reset", headers=admin)
        assert issued.status_code == 201
        code = issued.json()["code"]
        assert client.get("/api/v1/me", headers=_auth(token)).status_code == 401  # tokens revoked
        assert attempt(client, name).status_code == 401  # the old password no longer works
        new = "a fresh long password"
        body = {"username": name, "code": "wrong" + code, "new_password": new}
        assert client.post("/api/v1/password-reset", json=body).status_code == 401
        body["code"] = code
        assert client.post("/api/v1/password-reset", json=body).status_code == 204
        assert client.post("/api/v1/password-reset", json=body).status_code == 401  # spent
        assert attempt(client, name, new).status_code == 201


def _typed(html: str, name: str) -> str | None:
    import re

    match = re.search(rf'<input name="{name}"[^>]*?value="([^"]*)"', html)
    return match.group(1) if match else None


def test_a_reset_code_is_spent_on_the_reset_page(world):
    name, user_id = new_user(world)
    code = accounts.issue_password_reset(world.database, Actor.system(), user_id).code
    new = "a fresh long password"
    with TestClient(make_app(world, Clock())) as browser:
        login = browser.get("/login")
        assert 'href="/password-reset"' in login.text
        page = browser.get(f"/password-reset?username={name}")
        assert page.status_code == 200 and _typed(page.text, "username") == name
        token = csrf_of(page.text)
        before = audit_head(world)

        def submit(**fields):
            typed = {"username": name, "code": code, "new_password": new}
            typed["confirm_password"] = typed["new_password"]
            typed.update(fields)
            return browser.post(
                "/password-reset", data={**typed, "csrf_token": token}, follow_redirects=False
            )

        refusals = {
            "code": submit(code="x" + code),  # wrong code: 401, named next to the code
            "new_password": submit(new_password="short", confirm_password="short"),
            "confirm_password": submit(confirm_password=new + "!"),
        }
        for field, refused in refusals.items():
            assert refused.status_code in (401, 422), (field, refused.status_code)
            assert f'id="error-{field}"' in refused.text, field
            assert _typed(refused.text, "username") == name  # comes back as typed
            assert _typed(refused.text, "code") in (code, "x" + code)
            for password in (new, "short", new + "!"):  # passwords are never echoed
                assert f'value="{password}"' not in refused.text
            assert _typed(refused.text, "new_password") is None
            assert _typed(refused.text, "confirm_password") is None
        assert refusals["code"].status_code == 401
        assert "wrong, spent or expired" in refusals["code"].text
        forged = browser.post(
            "/password-reset",
            data={"username": name, "code": code, "new_password": new, "confirm_password": new},
        )
        assert forged.status_code == 403 and audit_head(world) == before
        with pytest.raises(AuthenticationError):
            accounts.authenticate(world.database, name, new)  # nothing was set

        done = submit()
        assert done.status_code == 303
        assert done.headers["location"] == f"/login?username={name}"
        shown = browser.get(done.headers["location"]).text
        assert "Your new password is set" in shown and _typed(shown, "username") == name
        assert submit().status_code == 401  # the code is spent
        sign_in(browser, name, new)
        assert accounts.authenticate(world.database, name, new).user_id == user_id


def test_administrator_sets_a_password_and_users_change_their_own(world):
    app = make_app(world, Clock())
    name, user_id = new_user(world)
    with TestClient(app) as client:
        admin = _auth(_token(client, "admin")["token"])
        token = _token(client, name)["token"]
        set_ = client.post(
            f"/api/v1/users/{user_id}/password", json={"password": "set by admin 1"}, headers=admin
        )
        assert set_.status_code == 200
        assert client.get("/api/v1/me", headers=_auth(token)).status_code == 401
        token = _token(client, name, "set by admin 1")["token"]
        wrong = client.post(
            "/api/v1/me/password",
            json={"old_password": "not it at all", "new_password": "mine, chosen by me"},
            headers=_auth(token),
        )
        assert wrong.status_code == 401
        changed = client.post(
            "/api/v1/me/password",
            json={"old_password": "set by admin 1", "new_password": "mine, chosen by me"},
            headers=_auth(token),
        )
        assert changed.status_code == 204
        assert _token(client, name, "mine, chosen by me")["token"]
    actions = [e.action for e in queries.audit_log(world.database, limit=30)]
    assert "user.password_reset" in actions and "user.password" in actions


# --- caching ---------------------------------------------------------------------------------


def test_private_answers_are_never_stored_by_caches(world):
    app = make_app(world, Clock())
    with TestClient(app) as client:
        token = _token(client, "m1")["token"]
        for path, headers in (
            ("/api/v1/me", _auth(token)),
            ("/api/v1/tokens", _auth(token)),
            ("/login", {}),
            ("/", {}),
        ):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-store", path
        sign_in(client, "m1")
        assert client.get("/ballot").headers["cache-control"] == "no-store"
        assert client.get("/static/htmx.min.js").headers.get("cache-control") != "no-store"


def test_account_settings_from_the_environment():
    from commonplan.server.settings import SettingsError

    settings = Settings.from_env(
        {
            "COMMONPLAN_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
            "COMMONPLAN_TOKEN_MAX_AGE_S": "3600",
            "COMMONPLAN_LOGIN_ADDRESS_ATTEMPTS": "50",
        }
    )
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert (settings.token_max_age_s, settings.login_address_attempts) == (3600, 50)
    assert Settings.from_env(settings.to_env()).trusted_proxies == settings.trusted_proxies
    with pytest.raises(SettingsError, match="COMMONPLAN_TRUSTED_PROXIES"):
        Settings.from_env({"COMMONPLAN_TRUSTED_PROXIES": "10.0.0.0/8, my-proxy"})
