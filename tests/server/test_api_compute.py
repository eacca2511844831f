"""Alternatives computed by the planning engine, through the API and on the pages, on the
demo assembly (seeded as ``commonplan demo --serve`` does) with the BEA 2021 15-sector table."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from commonplan.datasets import load_dataset
from commonplan.server import Settings, create_app
from commonplan.services import accounts
from commonplan.services.demo import seed_demo
from commonplan.store.database import open_database


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    db = open_database(url, migrate=True)
    seed = seed_demo(db, economy=load_dataset("bea2021_15"))
    app = create_app(Settings(secret_key="demo-test"), database=db)
    tokens = {
        a.username: accounts.create_token(
            db, accounts.authenticate(db, a.username, a.password)
        ).token
        for a in seed.accounts
    }
    yield seed, app, tokens
    db.dispose()


def test_computed_alternatives_over_the_api(demo):
    seed, app, tokens = demo
    url = f"/api/v1/rounds/{seed.round_id}"
    with TestClient(app) as client:
        groups = [g["name"] for g in client.get(url).json()["target_groups"]]
        members = [name for name in tokens if name.startswith("member")]
        rng = np.random.default_rng(3)
        for name in members:
            points = rng.multinomial(100, np.full(len(groups), 1 / len(groups)))
            response = client.post(
                f"{url}/ballots",
                headers={"Authorization": f"Bearer {tokens[name]}"},
                json={"points": dict(zip(groups, map(int, points), strict=True))},
            )
            assert response.status_code == 201, response.text
        fac = {"Authorization": f"Bearer {tokens['facilitator']}"}
        assert client.post(f"{url}/advance", headers=fac).status_code == 200
        member = {"Authorization": f"Bearer {tokens['member1']}"}
        assert client.post(f"{url}/alternatives/compute", headers=member).status_code == 403
        computed = client.post(f"{url}/alternatives/compute", headers=fac)
        assert computed.status_code == 201, computed.text
        alternatives = computed.json()
        assert 3 <= len(alternatives) <= 5
        assert [a["label"] for a in alternatives] == list("ABCDE"[: len(alternatives)])
        for alternative in alternatives:
            assert alternative["plan_sha256"] and alternative["figures"]
            assert sum(alternative["weights"].values()) == pytest.approx(1.0)
        again = client.post(f"{url}/alternatives/compute", headers=fac)
        assert again.status_code == 409
        page = client.get("/alternatives")
        assert page.status_code == 200
        for alternative in alternatives:
            assert alternative["title"] in page.text
        assert 'id="fulfilment-data"' in page.text and "Target fulfilment by group" in page.text


def test_published_computed_plan_page(demo):
    """Vote, tally and publish the computed alternatives; the plan page lists its products."""
    seed, app, tokens = demo
    url = f"/api/v1/rounds/{seed.round_id}"
    fac = {"Authorization": f"Bearer {tokens['facilitator']}"}
    with TestClient(app) as client:
        assert client.get(url).json()["phase"] == "alternatives"
        assert client.post(f"{url}/advance", headers=fac).status_code == 200
        labels = [a["label"] for a in client.get(f"{url}/alternatives").json()]
        for k, name in enumerate(n for n in tokens if n.startswith("member")):
            order = labels[k % len(labels) :] + labels[: k % len(labels)]
            response = client.post(
                f"{url}/rankings",
                json={"order": order},
                headers={"Authorization": f"Bearer {tokens[name]}"},
            )
            assert response.status_code == 201, response.text
        assert client.post(f"{url}/tally", headers=fac).status_code == 200
        published = client.post(f"{url}/publish", headers=fac)
        assert published.status_code == 201
        page = client.get("/plan")
        assert 'id="plan-products"' in page.text and published.json()["plan_sha256"] in page.text
        assert page.text.count("<tr><td>USA / ") == 17  # every product of the 15-sector table
