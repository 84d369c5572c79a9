"""Verification on the web, as a certifying body, a holder and a trainer use it."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt as pyjwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.accounts.sessions import start_session
from app.config import Settings
from app.credentials.apikeys import create_api_key
from app.credentials.issuance import SYSTEM, issue_certificate, revoke_certificate
from app.credentials.openbadges import decode_status_list, status_bit
from app.credentials.throttle import VerificationThrottle
from app.store import Database
from app.store.accounts import User
from app.store.certificates import Certificate
from app.store.learning import Enrolment
from tests.credentials.conftest import make_trainee, progress_for


@pytest.fixture
def issued(db: Database, settings: Settings) -> dict[str, object]:
    """One trainee with a certificate, and their API token."""
    with db.unit_of_work() as session:
        trainee = make_trainee(session, email="amara@example.org")
        enrolment = session.get(Enrolment, trainee.enrolment_id)
        assert enrolment is not None
        certificate = issue_certificate(
            session, enrolment, progress_for(trainee.release), settings=settings, actor=SYSTEM
        )
        user = session.get(User, trainee.user_id)
        assert user is not None
        token = start_session(session, user, kind="api", lifetime=timedelta(hours=1))
        return {
            "id": certificate.public_id,
            "pdf": certificate.pdf,
            "token": token,
            "enrolment_id": trainee.enrolment_id,
        }


def _staff_token(db: Database, role: str, email: str) -> str:
    with db.unit_of_work() as session:
        user = User(email=email, display_name=role.title(), role=role, password_hash="x")
        session.add(user)
        session.flush()
        return start_session(session, user, kind="api", lifetime=timedelta(hours=1))


def test_the_qr_link_shows_status_and_what_the_certificate_states_but_no_email(
    client: TestClient, issued: dict
) -> None:
    page = client.get(f"/verify/{issued['id']}")
    assert page.status_code == 200
    assert "Valid" in page.text and "Amara Okafor" in page.text
    assert "Valid until" in page.text and "Issued" in page.text
    assert "amara@example.org" not in page.text


def test_the_site_wide_form_accepts_a_typed_id_in_any_case(
    client: TestClient, issued: dict
) -> None:
    assert client.get("/verify").status_code == 200
    typed = str(issued["id"]).lower().replace("-", " ")
    response = client.get("/verify", params={"id": typed}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/verify/{issued['id']}"
    wrong = client.get("/verify", params={"id": str(issued["id"])[:-1] + "Z"})
    if str(issued["id"]).endswith("Z"):
        wrong = client.get("/verify", params={"id": str(issued["id"])[:-1] + "Y"})
    assert wrong.status_code == 422 and "typing mistake" in wrong.text


def test_a_revoked_certificate_shows_date_and_reason_on_the_page_and_in_the_api(
    client: TestClient, issued: dict, db: Database
) -> None:
    with db.unit_of_work() as session:
        revoke_certificate(session, str(issued["id"]), reason="misconduct", actor=SYSTEM)
    page = client.get(f"/verify/{issued['id']}")
    assert "Revoked on" in page.text and "reason: conduct" in page.text
    body = client.get(f"/api/v1/certificates/{issued['id']}/verification").json()
    assert body["status"] == "revoked" and body["revocation_reason"] == "misconduct"
    assert body["revoked_on"] is not None


def test_unknown_and_malformed_ids_get_the_same_shape(client: TestClient) -> None:
    unknown = client.get("/api/v1/certificates/PP-0000-0000-0000-0000-0000-0000-000/verification")
    malformed = client.get("/api/v1/certificates/PP-0000-0000-0000-0000-0000-0000-00Z/verification")
    assert unknown.status_code == malformed.status_code == 200
    u, m = unknown.json(), malformed.json()
    assert u.keys() == m.keys()
    assert u["status"] == m["status"] == "unknown"
    assert {k: v for k, v in u.items() if k not in ("explanation", "id")} == {
        k: v for k, v in m.items() if k not in ("explanation", "id")
    }
    assert "typing mistake" in m["explanation"]
    assert client.get("/verify/PP-0000-0000-0000-0000-0000-0000-000").status_code == 404


def test_an_uploaded_pdf_matches_only_if_unaltered(client: TestClient, issued: dict) -> None:
    genuine = client.post(
        "/verify/pdf", files={"file": ("c.pdf", issued["pdf"], "application/pdf")}
    )
    assert genuine.status_code == 200 and "matches a certificate we issued" in genuine.text
    tampered = bytearray(issued["pdf"])  # type: ignore[arg-type]
    tampered[100] ^= 0x20
    altered = client.post(
        "/verify/pdf", files={"file": ("c.pdf", bytes(tampered), "application/pdf")}
    )
    assert altered.status_code == 422 and "does not match" in altered.text
    api = client.post(
        "/api/v1/certificates/pdf-verifications",
        content=bytes(tampered),
        headers={"content-type": "application/pdf"},
    )
    assert api.json()["matches"] is False
    too_big = client.post(
        "/api/v1/certificates/pdf-verifications", content=b"0" * (5 * 1024 * 1024 + 1)
    )
    assert too_big.status_code == 413


def test_bulk_verification_needs_a_key_and_returns_each_status(
    client: TestClient, issued: dict, db: Database
) -> None:
    ids = [issued["id"], "PP-0000-0000-0000-0000-0000-0000-000", "nonsense"]
    assert client.post("/api/v1/certificates/verifications", json={"ids": ids}).status_code == 401
    with db.unit_of_work() as session:
        key = create_api_key(session, "National Certification Board")
    headers = {"Authorization": f"Bearer {key}"}
    response = client.post("/api/v1/certificates/verifications", json={"ids": ids}, headers=headers)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["valid", "unknown", "unknown"]
    too_many = client.post(
        "/api/v1/certificates/verifications", json={"ids": ["x"] * 1001}, headers=headers
    )
    assert too_many.status_code == 422


def test_anonymous_verification_is_rate_limited_with_retry_after(
    client: TestClient, app: FastAPI, issued: dict, db: Database
) -> None:
    app.state.verification_throttle = VerificationThrottle(db.writer, limit=4)
    url = f"/api/v1/certificates/{issued['id']}/verification"
    codes = [client.get(url).status_code for _ in range(6)]
    assert codes == [200, 200, 200, 200, 429, 429]
    limited = client.get(url)
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert int(limited.headers["retry-after"]) > 0
    with db.unit_of_work() as session:
        key = create_api_key(session, "Board")
    assert client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    wrong = client.get(url, headers={"Authorization": "Bearer ppv_not-a-key"})
    assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]


def test_the_rate_limit_is_shared_by_server_processes(db: Database) -> None:
    first = VerificationThrottle(db.writer, limit=8, batch=1)
    second = VerificationThrottle(db.writer, limit=8, batch=1)
    allowed = sum((first if i % 2 else second).hit("verify:203.0.113.9") == 0 for i in range(20))
    assert allowed == 8


def test_the_holder_gets_an_open_badge_that_verifies_with_the_published_keys(
    client: TestClient, issued: dict
) -> None:
    url = f"/api/v1/certificates/{issued['id']}/credential"
    assert client.get(url).status_code == 401
    response = client.get(url, headers={"Authorization": f"Bearer {issued['token']}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vc+jwt")
    jwks = pyjwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    kid = pyjwt.get_unverified_header(response.text)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = pyjwt.decode(response.text, key=key, algorithms=["EdDSA"])
    assert claims["vc"]["credentialSubject"]["identifier"][0]["identityHash"] == "Amara Okafor"
    assert claims["jti"] == f"http://testserver/verify/{issued['id']}"
    pdf = client.get(
        f"/api/v1/certificates/{issued['id']}/pdf",
        headers={"Authorization": f"Bearer {issued['token']}"},
    )
    assert pdf.content == issued["pdf"]


def test_someone_else_cannot_download_the_holders_credential(
    client: TestClient, issued: dict, db: Database
) -> None:
    with db.unit_of_work() as session:
        other = make_trainee(session, name="Bo", email="bo@example.org")
        user = session.get(User, other.user_id)
        assert user is not None
        token = start_session(session, user, kind="api", lifetime=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.get(f"/api/v1/certificates/{issued['id']}/credential", headers=headers).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/certificates/{issued['id']}/pdf", headers=headers).status_code == 404
    )


def test_the_status_list_shows_a_revocation_at_once(
    client: TestClient, issued: dict, db: Database
) -> None:
    with db.unit_of_work() as session:
        certificate = session.query(Certificate).filter_by(public_id=issued["id"]).one()
        number, index = certificate.status_list, certificate.status_list_index
    jwks = pyjwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())

    def bit() -> bool:
        token = client.get(f"/status-lists/{number}").text
        claims = pyjwt.decode(token, key=jwks.keys[0], algorithms=["EdDSA"])
        return status_bit(decode_status_list(claims["credentialSubject"]["encodedList"]), index)

    assert bit() is False
    staff = _staff_token(db, "trainer", "trainer@example.org")
    response = client.post(
        f"/api/v1/certificates/{issued['id']}/revocation",
        json={"reason": "issued-in-error"},
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert bit() is True


def test_only_trainers_and_admins_may_revoke_or_issue(
    client: TestClient, issued: dict, db: Database
) -> None:
    trainee = {"Authorization": f"Bearer {issued['token']}"}
    revoke = client.post(
        f"/api/v1/certificates/{issued['id']}/revocation", json={"reason": "other"}, headers=trainee
    )
    assert revoke.status_code == 403
    admin = {"Authorization": f"Bearer {_staff_token(db, 'admin', 'admin@example.org')}"}
    with db.unit_of_work() as session:
        other = make_trainee(session, name="Bo", email="bo@example.org")
    refused = client.post(
        "/api/v1/certificates", json={"enrolment_id": other.enrolment_id}, headers=admin
    )
    assert refused.status_code == 409
    assert refused.json()["unmet"], refused.json()
    huge = client.post("/api/v1/certificates", json={"enrolment_id": 2**70}, headers=admin)
    assert huge.status_code == 422
    assert client.get("/status-lists/99999999999999999999999").status_code in (404, 422)
    again = client.post(
        "/api/v1/certificates", json={"enrolment_id": issued["enrolment_id"]}, headers=admin
    )
    assert again.status_code == 201 and again.json()["id"] == issued["id"]


def test_reissue_and_renewal_through_the_api(
    client: TestClient, issued: dict, db: Database
) -> None:
    admin = {"Authorization": f"Bearer {_staff_token(db, 'admin', 'admin@example.org')}"}
    reissued = client.post(
        f"/api/v1/certificates/{issued['id']}/reissue",
        json={"holder_name": "Amara Okafor-Reyes"},
        headers=admin,
    )
    assert reissued.status_code == 201
    new_id = reissued.json()["id"]
    old = client.get(f"/api/v1/certificates/{issued['id']}/verification").json()
    assert old["status"] == "superseded" and old["superseded_by"] == new_id
    short = client.post(
        f"/api/v1/certificates/{new_id}/renewal",
        json={"continuing_education_hours": 1, "ethics_hours": 0},
        headers=admin,
    )
    assert short.status_code == 409 and len(short.json()["unmet"]) == 2
    renewed = client.post(
        f"/api/v1/certificates/{new_id}/renewal",
        json={"continuing_education_hours": 4, "ethics_hours": 1},
        headers=admin,
    )
    assert renewed.status_code == 201
    assert json.loads(json.dumps(renewed.json()))["version"] == 3


def test_staff_signed_in_by_cookie_must_send_the_csrf_token_to_revoke(
    client: TestClient, issued: dict, db: Database, settings: Settings
) -> None:
    """A page on another site cannot make a trainer's browser revoke a certificate."""
    from app.web.auth import _signer, session_cookie_name

    with db.unit_of_work() as session:
        trainer = User(
            email="trainer@example.org", display_name="T", role="trainer", password_hash="x"
        )
        session.add(trainer)
        session.flush()
        token = start_session(session, trainer, kind="browser", lifetime=timedelta(hours=1))
    client.cookies.set(session_cookie_name(settings), _signer(settings).sign(token).decode())
    url = f"/api/v1/certificates/{issued['id']}/revocation"
    body = {"reason": "other", "note": "cross-site"}
    forged = client.post(url, json=body)
    assert forged.status_code == 403
    assert forged.json()["type"].endswith("csrf-token-invalid")
    assert client.get(f"/api/v1/certificates/{issued['id']}/verification").json()["status"] == (
        "valid"
    )
    csrf = client.get("/api/v1/me").json()["csrf_token"]
    revoked = client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 200, revoked.text
