"""The Graph stand-in, driven by the real msal and requests over TLS on loopback (no mocks)."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import msal
import pytest
import requests
import trustme

from graph_standin import SENT_HEADER, GraphStandIn

SCOPE = ["https://graph.microsoft.com/.default"]
DOMAIN = "synthetic-primary.sch.uk"
PASSWORD = "Synth3tic!Pass"


def pupil(n: int, **over) -> dict:
    """A synthetic pupil account body for POST /users."""
    return {"accountEnabled": True, "displayName": f"Pupil {n:04d}", "givenName": "Pupil",
            "surname": f"N{n:04d}", "mailNickname": f"pupil{n:04d}",
            "userPrincipalName": f"pupil{n:04d}@{DOMAIN}", "employeeId": f"SYN{n:05d}",
            "usageLocation": "GB",
            "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": True}, **over}


def msal_app(g: GraphStandIn, credential=None, tenant=None, session=None):
    return msal.ConfidentialClientApplication(
        g.client_id, client_credential=credential or g.client_secret,
        authority=f"{g.authority_host}/{tenant or g.tenant_id}",
        instance_discovery=False, http_client=session or g.session())


class Graph:
    """Just enough client to talk to the stand-in: a session, a token, relative paths."""

    def __init__(self, g: GraphStandIn):
        self.g, self.s = g, g.session()
        self.token = msal_app(g, session=self.s).acquire_token_for_client(SCOPE)["access_token"]

    def __call__(self, method, path, **kw):
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        url = path if path.startswith("https://") else self.g.graph_url + path
        return self.s.request(method, url, headers=headers, **{"timeout": 10, **kw})

    def batch(self, requests_):
        return self("POST", "/$batch", json={"requests": requests_})


@pytest.fixture
def standin():
    with GraphStandIn(write_limit=10_000) as g:  # throttling tests lower the limit themselves
        yield g


@pytest.fixture
def graph(standin) -> Graph:
    return Graph(standin)


# ----------------------------------------------------------------------------- tokens

def test_msal_gets_a_token_and_caches_it(standin):
    app = msal_app(standin)
    first = app.acquire_token_for_client(SCOPE)
    assert first["token_type"] == "Bearer" and first["expires_in"] > 300
    assert first["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(SCOPE)["token_source"] == "cache"
    token_posts = [e for e in standin.request_log if e.path.endswith("/oauth2/v2.0/token")]
    assert len(token_posts) == 1 and token_posts[0].status == 200


def test_wrong_secret_unknown_client_and_unknown_tenant(standin):
    bad = msal_app(standin, credential="not-the-secret").acquire_token_for_client(SCOPE)
    assert bad["error"] == "invalid_client" and "AADSTS7000215" in bad["error_description"]
    assert 7000215 in bad["error_codes"]

    stranger = msal.ConfidentialClientApplication(
        "0badc0de-0000-4000-8000-000000000000", client_credential=standin.client_secret,
        authority=standin.authority, instance_discovery=False, http_client=standin.session())
    res = stranger.acquire_token_for_client(SCOPE)
    assert res["error"] == "unauthorized_client" and "AADSTS700016" in res["error_description"]

    with pytest.raises(ValueError):  # msal runs discovery in its constructor; 400 there raises
        msal_app(standin, tenant="11111111-2222-4333-8444-555555555555")
    direct = standin.session().post(
        f"{standin.authority_host}/11111111-2222-4333-8444-555555555555/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": standin.client_id,
              "client_secret": standin.client_secret, "scope": SCOPE[0]})
    assert direct.status_code == 400 and direct.json()["error"] == "invalid_request"
    assert direct.json()["error_description"].startswith("AADSTS90002:")


def test_certificate_client_assertion(standin):
    ok = msal_app(standin, credential=standin.issue_client_certificate()).acquire_token_for_client(SCOPE)
    assert ok.get("access_token"), ok
    leaf = trustme.CA().issue_cert("elsewhere.invalid", key_type=trustme.KeyType.RSA)  # not registered
    cred = {"private_key": leaf.private_key_pem.bytes().decode(),
            "public_certificate": leaf.cert_chain_pems[0].bytes().decode()}
    bad = msal_app(standin, credential=cred).acquire_token_for_client(SCOPE)
    assert bad["error"] == "invalid_client" and "AADSTS700027" in bad["error_description"]


def test_token_endpoint_faults_as_msal_reports_them(standin):
    standin.fail_next(status=503, target="token")  # msal raises on a token-endpoint 5xx
    with pytest.raises(msal.exceptions.MsalServiceError):
        msal_app(standin).acquire_token_for_client(SCOPE)
    app = msal_app(standin)
    standin.fail_next(status=429, retry_after=1, target="token")  # ...but returns a 429 as a dict,
    assert app.acquire_token_for_client(SCOPE)["error"] == "temporarily_unavailable"
    assert app.acquire_token_for_client(SCOPE)["error"] == "temporarily_unavailable"  # replayed by msal
    assert sum(e.path.endswith("/token") for e in standin.request_log) == 2
    standin.drop_next(target="token")
    with pytest.raises(requests.ConnectionError):
        msal_app(standin).acquire_token_for_client(SCOPE)


def test_graph_rejects_missing_and_expired_tokens_and_missing_permission(standin, graph):
    anon = standin.session().get(f"{standin.graph_url}/users")
    assert anon.status_code == 401 and anon.json()["error"]["code"] == "InvalidAuthenticationToken"

    standin.permission_denied = "writes"
    assert graph("GET", "/users").status_code == 200
    denied = graph("POST", "/users", json=pupil(1))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "Authorization_RequestDenied"
    assert denied.json()["error"]["message"] == "Insufficient privileges to complete the operation."
    standin.permission_denied = True
    assert graph("GET", "/users").status_code == 403
    standin.permission_denied = False

    standin.expire_tokens()
    expired = graph("GET", "/users")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


# ----------------------------------------------------------------------------- users

def test_create_user_and_duplicate_upn(standin, graph):
    created = graph("POST", "/users", json=pupil(1))
    assert created.status_code == 201
    body = created.json()
    assert body["userPrincipalName"] == f"pupil0001@{DOMAIN}" and body["id"]
    assert "employeeId" not in body and "passwordProfile" not in body  # default property set
    assert standin.users[body["id"]]["employeeId"] == "SYN00001"

    again = graph("POST", "/users", json=pupil(1, employeeId="SYN99999"))
    assert again.status_code == 400
    err = again.json()["error"]
    assert err["code"] == "Request_BadRequest"
    assert err["message"] == "Another object with the same value for property userPrincipalName already exists."
    assert err["details"][0]["target"] == "userPrincipalName"

    standin.add_user(userPrincipalName=f"Pupil0002@{DOMAIN}", employeeId="STAFF1")  # not made by the tool
    clash = graph("POST", "/users", json=pupil(2))  # UPNs compare case-insensitively
    assert clash.status_code == 400 and "already exists" in clash.json()["error"]["message"]
    assert standin.write_count == 3 and len(standin.users) == 2


@pytest.mark.parametrize("change, message", [
    ({"mailNickname": None}, "Invalid value specified for property 'mailNickname' of resource 'User'."),
    ({"accountEnabled": "yes"}, "Invalid value specified for property 'accountEnabled' of resource 'User'."),
    ({"passwordProfile": {"password": "alllowercase"}},
     "The specified password does not comply with password complexity requirements. "
     "Please provide a different password."),
    ({"passwordProfile": {"password": "Sh0rt!"}}, "The specified password does not comply"),
    ({"userPrincipalName": "pupil zero@" + DOMAIN}, "Property userPrincipalName is invalid."),
    ({"userPrincipalName": "pupil0001@unverified.example"}, "The domain portion of the userPrincipalName"),
    ({"employeeId": "X" * 17}, "Invalid value specified for property 'employeeId'"),
    ({"favouriteColour": "blue"}, "Property 'favouriteColour' does not exist"),
])
def test_create_user_validation(change, message):
    with GraphStandIn(verified_domains=[DOMAIN]) as g:
        body = {k: v for k, v in {**pupil(1), **change}.items() if v is not None}
        res = Graph(g)("POST", "/users", json=body)
        assert res.status_code == 400
        assert res.json()["error"]["message"].startswith(message)
        assert g.users == {}


def test_filter_select_top_and_paging(standin, graph):
    for n in range(1, 8):
        standin.add_user(**pupil(n), employeeType="Student" if n % 2 else "Staff")

    one = graph("GET", "/users", params={"$filter": "employeeId eq 'SYN00003'",
                                         "$select": "id,userPrincipalName,employeeId,accountEnabled"})
    assert one.status_code == 200
    assert [u["userPrincipalName"] for u in one.json()["value"]] == [f"pupil0003@{DOMAIN}"]
    assert set(one.json()["value"][0]) == {"id", "userPrincipalName", "employeeId", "accountEnabled"}

    some = graph("GET", "/users", params={"$filter": "employeeId in ('SYN00001','SYN00007','NOPE')"})
    assert len(some.json()["value"]) == 2 and "employeeId" not in some.json()["value"][0]
    ids = ",".join(f"'{u}'" for u in standin.users)
    by_id = graph("GET", "/users", params={"$filter": f"id in ({ids},'a','b','c','d','e','f','g','h')"})
    assert by_id.status_code == 200 and len(by_id.json()["value"]) == 7, "15 values in one 'in'"
    too_many = graph("GET", "/users", params={"$filter": f"id in ({ids},'a','b','c','d','e','f','g','h','i')"})
    assert too_many.status_code == 400 and "Max allowed: 15" in too_many.json()["error"]["message"]
    starts = graph("GET", "/users", params={"$filter": "startswith(userPrincipalName,'PUPIL000')"})
    assert len(starts.json()["value"]) == 7

    seen, url = [], "/users?$top=3&$select=id"
    while url:
        page = graph("GET", url).json()
        assert len(page["value"]) <= 3
        seen += [u["id"] for u in page["value"]]
        url = page.get("@odata.nextLink")
    assert sorted(seen) == sorted(standin.users)

    plain = graph("GET", "/users", params={"$filter": "employeeType eq 'Student'"})
    assert plain.status_code == 400 and plain.json()["error"]["code"] == "Request_UnsupportedQuery"
    advanced = graph("GET", "/users", params={"$filter": "employeeType eq 'Student'", "$count": "true"},
                     headers={"ConsistencyLevel": "eventual"})
    assert advanced.status_code == 200 and advanced.json()["@odata.count"] == 4
    bad_select = graph("GET", "/users", params={"$select": "shoeSize"})
    assert bad_select.status_code == 400


def test_get_patch_by_upn_and_soft_delete_restore_purge(standin, graph):
    uid = graph("POST", "/users", json=pupil(1)).json()["id"]
    upn = f"pupil0001@{DOMAIN}"
    assert graph("PATCH", f"/users/{upn}", json={"accountEnabled": False}).status_code == 204
    got = graph("GET", f"/users/{uid}", params={"$select": "accountEnabled,employeeId"}).json()
    assert got["accountEnabled"] is False and got["employeeId"] == "SYN00001"

    assert graph("DELETE", f"/users/{uid}").status_code == 204
    gone = graph("GET", f"/users/{uid}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"
    listed = graph("GET", "/directory/deletedItems/microsoft.graph.user").json()["value"]
    assert [d["id"] for d in listed] == [uid]
    assert listed[0]["userPrincipalName"] == uid.replace("-", "") + upn and listed[0]["deletedDateTime"]

    # The UPN is free while the old account sits in deleted items, so a restore can clash.
    squatter = graph("POST", "/users", json=pupil(1)).json()["id"]
    clash = graph("POST", f"/directory/deletedItems/{uid}/restore")
    assert clash.status_code == 400 and "already exists" in clash.json()["error"]["message"]
    graph("DELETE", f"/users/{squatter}")
    assert graph("DELETE", f"/directory/deletedItems/{squatter}").status_code == 204

    restored = graph("POST", f"/directory/deletedItems/{uid}/restore")
    assert restored.status_code == 200 and restored.json()["userPrincipalName"] == upn
    assert graph("GET", f"/users/{upn}").status_code == 200
    assert list(standin.deleted_users) == []


# ----------------------------------------------------------------------------- groups, licences

def test_group_bulk_members_ref_and_filter(standin, graph):
    ids = [standin.add_user(**pupil(n))["id"] for n in range(1, 23)]
    created = graph("POST", "/groups", json={"displayName": "Year 3 Oak", "mailEnabled": False,
                                             "mailNickname": "year3oak", "securityEnabled": True})
    assert created.status_code == 201
    gid = created.json()["id"]
    found = graph("GET", "/groups", params={"$filter": "displayName eq 'Year 3 Oak'"}).json()["value"]
    assert [x["id"] for x in found] == [gid]

    bind = [f"https://graph.microsoft.com/v1.0/directoryObjects/{i}" for i in ids]
    too_many = graph("PATCH", f"/groups/{gid}", json={"members@odata.bind": bind[:21]})
    assert too_many.status_code == 400 and "more than 20 link changes" in too_many.json()["error"]["message"]
    assert graph("PATCH", f"/groups/{gid}", json={"members@odata.bind": bind[:20]}).status_code == 204
    assert len(standin.groups[gid]["members"]) == 20

    ref = {"@odata.id": bind[20]}
    assert graph("POST", f"/groups/{gid}/members/$ref", json=ref).status_code == 204
    dup = graph("POST", f"/groups/{gid}/members/$ref", json=ref)
    assert dup.status_code == 400 and "already exist" in dup.json()["error"]["message"]
    assert graph("DELETE", f"/groups/{gid}/members/{ids[0]}/$ref").status_code == 204
    assert graph("DELETE", f"/groups/{gid}/members/{ids[0]}/$ref").status_code == 404

    members, url = [], f"/groups/{gid}/members?$select=id"
    while url:
        page = graph("GET", url).json()
        members += [m["id"] for m in page["value"]]
        url = page.get("@odata.nextLink")
    assert sorted(members) == sorted(ids[1:21])
    assert standin.write_count == 7  # every POST/PATCH/DELETE costs a write, the failed ones too


def test_assign_license_needs_usage_location(standin, graph):
    skus = graph("GET", "/subscribedSkus").json()["value"]
    a1 = next(s for s in skus if s["skuPartNumber"] == "STANDARDWOFFPACK_STUDENT")
    assert a1["skuId"] == "314c4481-f395-4525-be8b-2ec4bb1e9d91" and a1["consumedUnits"] == 0
    body = {"addLicenses": [{"skuId": a1["skuId"], "disabledPlans": []}], "removeLicenses": []}

    nowhere = graph("POST", "/users", json=pupil(1, usageLocation=None)).json()["id"]
    refused = graph("POST", f"/users/{nowhere}/assignLicense", json=body)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == \
        "License assignment cannot be done for user with invalid usage location."

    uk = graph("POST", "/users", json=pupil(2)).json()["id"]
    assert graph("POST", f"/users/{uk}/assignLicense", json=body).status_code == 200
    assert standin.users[uk]["assignedLicenses"] == [{"disabledPlans": [], "skuId": a1["skuId"]}]
    skus = graph("GET", "/subscribedSkus").json()["value"]
    assert next(s for s in skus if s["skuId"] == a1["skuId"])["consumedUnits"] == 1


# ----------------------------------------------------------------------------- $batch

def create_requests(numbers):
    return [{"id": str(n), "method": "POST", "url": "/users", "body": pupil(n),
             "headers": {"Content-Type": "application/json"}} for n in numbers]


def test_batch_of_20_creates_and_21_is_rejected(standin, graph):
    res = graph.batch(create_requests(range(1, 21)))
    assert res.status_code == 200
    by_id = {r["id"]: r for r in res.json()["responses"]}
    assert sorted(by_id, key=int) == [str(n) for n in range(1, 21)]
    assert all(r["status"] == 201 and r["body"]["id"] for r in by_id.values())
    assert len(standin.users) == 20 and standin.write_count == 20
    assert [r["id"] for r in res.json()["responses"]] != sorted(by_id, key=int)  # match by id, not order

    too_big = graph.batch(create_requests(range(100, 121)))
    assert too_big.status_code == 400 and len(standin.users) == 20


def test_batch_depends_on_and_injected_sub_failure(standin, graph):
    uid = standin.add_user(**pupil(1))["id"]
    standin.fail_in_batch([1], status=503, retry_after=2)
    res = graph.batch([
        {"id": "a", "method": "PATCH", "url": f"/users/{uid}", "body": {"jobTitle": "Year 4"},
         "headers": {"Content-Type": "application/json"}},
        {"id": "b", "method": "GET", "url": f"/users/{uid}?$select=jobTitle", "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": f"/users/{uid}?$select=jobTitle,employeeId", "dependsOn": ["b"]},
        {"id": "d", "method": "GET", "url": f"/users/{uid}?$select=jobTitle", "dependsOn": ["a"]},
    ])
    by_id = {r["id"]: r for r in res.json()["responses"]}
    assert res.status_code == 200
    assert by_id["a"]["status"] == 204 and "body" not in by_id["a"]
    assert by_id["b"]["status"] == 503 and by_id["b"]["headers"]["Retry-After"] == "2"
    assert by_id["c"]["status"] == 424
    assert by_id["d"]["status"] == 200 and by_id["d"]["body"]["jobTitle"] == "Year 4"


def test_batch_sub_requests_are_throttled_individually(standin, graph):
    standin.write_limit = 10
    res = graph.batch(create_requests(range(1, 21)))
    assert res.status_code == 200
    statuses = sorted(r["status"] for r in res.json()["responses"])
    assert statuses == [201] * 10 + [429] * 10
    throttled = [r for r in res.json()["responses"] if r["status"] == 429]
    assert all(int(r["headers"]["Retry-After"]) >= 1 for r in throttled)
    assert throttled[0]["body"]["error"]["code"] == "TooManyRequests"
    assert standin.write_count == 10 and standin.throttled == 10


# ----------------------------------------------------------------------------- throttling, faults

def test_throttling_429_and_violations(standin, graph):
    standin.write_limit = 5
    uid = standin.add_user(**pupil(1))["id"]
    patch = lambda: graph("PATCH", f"/users/{uid}", json={"jobTitle": "Year 5"})  # noqa: E731
    assert [patch().status_code for _ in range(5)] == [204] * 5
    throttled = patch()
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    retry_after = int(throttled.headers["Retry-After"])
    assert retry_after >= 1 and standin.violations == 0

    time.sleep(0.2)  # a client that ignores Retry-After (past the 0.1 s grace)...
    assert graph("GET", f"/users/{uid}").status_code == 200  # ...even for a read
    assert standin.violations == 1
    assert [e.violation for e in standin.request_log][-1] is True

    time.sleep(retry_after)  # a client that waits
    assert patch().status_code == 204
    assert standin.violations == 1 and standin.throttled == 1 and standin.write_count == 6


def test_a_request_is_judged_by_when_it_was_sent_not_when_it_was_read(standin, graph):
    # On a busy machine a server thread may read a request a tenth of a second after the
    # client sent it: sent before the client was told to wait, it is no violation.
    standin.write_limit = 1
    uid = standin.add_user(**pupil(1))["id"]
    patch = lambda **kw: graph("PATCH", f"/users/{uid}", json={"jobTitle": "Year 5"}, **kw)  # noqa: E731
    sent_before = time.monotonic()
    assert [patch().status_code for _ in range(2)] == [204, 429]
    time.sleep(0.2)
    assert patch(headers={SENT_HEADER: repr(sent_before)}).status_code == 429  # held up, read late
    assert standin.violations == 0
    assert patch().status_code == 429  # sent now, while told to wait
    assert standin.violations == 1


def test_fail_next_injects_503_then_recovers(standin, graph):
    standin.fail_next(status=503, count=2)
    first, second = graph("POST", "/users", json=pupil(1)), graph("POST", "/users", json=pupil(1))
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.json()["error"]["code"] == "serviceNotAvailable" and standin.users == {}
    assert graph("POST", "/users", json=pupil(1)).status_code == 201

    standin.fail_next(status=429, retry_after=3)
    told = graph("GET", "/users")
    assert told.status_code == 429 and told.headers["Retry-After"] == "3"


def test_dropped_connections_surface_as_connection_errors(standin, graph):
    standin.drop_next()
    with pytest.raises(requests.ConnectionError):
        graph("POST", "/users", json=pupil(1))
    assert standin.users == {}  # dropped before anything was applied

    standin.drop_after_apply_next()
    with pytest.raises(requests.ConnectionError):
        graph("POST", "/users", json=pupil(1))
    assert standin.user(f"pupil0001@{DOMAIN}") is not None  # applied, but the answer was lost
    retry = graph("POST", "/users", json=pupil(1))  # a blind retry meets its own account
    assert retry.status_code == 400 and "already exists" in retry.json()["error"]["message"]
    assert [e.dropped for e in standin.request_log if e.app][:2] == [True, True]


def test_a_cut_answer_and_a_slow_one_are_applied_but_not_received(standin, graph):
    standin.cut_next()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        graph("POST", "/users", json=pupil(1))
    assert standin.user(f"pupil0001@{DOMAIN}") is not None  # applied; half the answer came

    standin.slow_next(1.5)
    with pytest.raises(requests.Timeout):
        graph("POST", "/users", json=pupil(2), timeout=0.5)
    assert standin.user(f"pupil0002@{DOMAIN}") is not None  # applied; the answer came too late


def test_a_storm_fails_most_requests_until_it_ends(standin, graph):
    standin.storm(share=0.9, status=429, retry_after=0)
    answers = [graph("GET", "/users").status_code for _ in range(30)]
    batch = graph.batch([{"id": str(n), "method": "GET", "url": "/users"} for n in range(20)]).json()
    assert answers.count(429) > 15 and 429 in {r["status"] for r in batch["responses"]}
    standin.storm(0)
    assert {graph("GET", "/users").status_code for _ in range(5)} == {200}


def test_tokens_expire_after_so_many_requests(standin, graph):
    standin.expire_tokens_after(2)
    assert [graph("GET", "/users").status_code for _ in range(3)] == [200, 200, 401]
    assert graph("GET", "/users").json()["error"]["message"] == "Lifetime validation failed, the token is expired."

def test_latency_and_concurrency_are_measured():
    with GraphStandIn(latency=0.05) as g:
        client = Graph(g)
        client("GET", "/users")  # warm one connection
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: client("GET", "/users").status_code, range(8)))
        elapsed = time.monotonic() - started
    assert statuses == [200] * 8
    assert g.max_concurrency >= 4 and elapsed < 8 * 0.05
    assert all(e.duration >= 0.05 for e in g.request_log)


def test_threads_shut_down_cleanly():
    before = set(threading.enumerate())
    g = GraphStandIn().start()
    client = Graph(g)
    assert client("GET", "/users").status_code == 200  # leaves a keep-alive connection open
    port = g.port
    g.close()
    assert set(threading.enumerate()) <= before
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
