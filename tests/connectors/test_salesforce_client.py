"""SalesforceClient: auth, retries, budget, call accounting (HTTP mocked with `responses`)."""

from __future__ import annotations

import pytest
import requests
import responses

from spm_sync.calls import ApiCalls
from spm_sync.config import SalesforceSource
from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.client import (
    SalesforceApiError,
    SalesforceClient,
    endpoint_family,
    parse_limit_info,
)
from spm_sync.errors import AuthError, BudgetExhausted, ConnectorError

BASE = "https://sf.example.test"
DATA = f"{BASE}/services/data/v62.0"
SOAP = "https://login.salesforce.com/services/Soap/u/62.0"


def _soap_ok(session: str) -> str:
    return (
        '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soapenv:Body><loginResponse><result><serverUrl>{BASE}/services/Soap/u/62.0/00D</serverUrl>"
        f"<sessionId>{session}</sessionId></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "RETRY_BASE_S", 0.0)


def _session_cfg(**kw: object) -> SalesforceSource:
    return SalesforceSource(type="salesforce", name="sf", instance_url=BASE, session_id="SECRET-SID", **kw)


def _password_cfg() -> SalesforceSource:
    return SalesforceSource(type="salesforce", name="sf", username="u@x.test", password="pw", security_token="tok")


@pytest.mark.parametrize(
    ("url", "family"),
    [
        (f"{DATA}/query?q=SELECT+Id+FROM+Account", "query"),
        (f"{DATA}/queryAll/01gXX-2000", "query"),
        (f"{DATA}/sobjects/Account/describe", "describe"),
        (f"{DATA}/sobjects", "describe_global"),
        (f"{DATA}/sobjects/User/005000000000001", "sobjects"),
        (f"{DATA}/jobs/query/750XX/results", "bulk_query"),
        (f"{DATA}/composite/sobjects", "composite"),
        (f"{DATA}/limits", "limits"),
        (SOAP, "auth"),
        ("https://login.salesforce.com/services/oauth2/token", "auth"),
    ],
)
def test_endpoint_family(url: str, family: str) -> None:
    assert endpoint_family(url) == family


def test_parse_limit_info() -> None:
    assert parse_limit_info("api-usage=18/5000; per-app-api-usage=17/250(appName=x)") == (18, 5000)
    assert parse_limit_info(None) is None


@responses.activate
def test_retries_5xx_and_lock_row_then_counts_every_attempt() -> None:
    url = f"{DATA}/query"
    responses.get(url, status=503, json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}])
    responses.get(url, status=400, json=[{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])
    responses.get(url, json={"totalSize": 0, "done": True, "records": []},
                  headers={"Sforce-Limit-Info": "api-usage=42/15000"})
    calls = ApiCalls(source="sf")
    client = SalesforceClient(_session_cfg(), calls)
    body = client.request("GET", "query", params={"q": "SELECT Id FROM Account"}).parsed()
    assert body == {"totalSize": 0, "done": True, "records": []}
    assert calls.by_family == {"query": 3}
    assert (calls.daily_used, calls.daily_max) == (42, 15000)


@responses.activate
def test_truncated_json_is_retried() -> None:
    url = f"{DATA}/query"
    responses.get(url, body='{"totalSize": 1, "done": tr', content_type="application/json")
    responses.get(url, json={"totalSize": 0, "done": True, "records": []})
    calls = ApiCalls(source="sf")
    client = SalesforceClient(_session_cfg(), calls)
    assert client.request("GET", "query").parsed()["done"] is True
    assert calls.total == 2


@responses.activate
def test_request_limit_exceeded_is_never_retried() -> None:
    responses.get(f"{DATA}/query", status=403, json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "Total"}])
    calls = ApiCalls(source="sf")
    client = SalesforceClient(_session_cfg(), calls)
    with pytest.raises(BudgetExhausted):
        client.request("GET", "query")
    assert calls.total == 1


@responses.activate
def test_gives_up_after_max_retries_with_named_error() -> None:
    responses.get(f"{DATA}/query", status=500, json=[{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}])
    calls = ApiCalls(source="sf")
    client = SalesforceClient(_session_cfg(max_retries=2), calls)
    with pytest.raises(SalesforceApiError) as err:
        client.request("GET", "query", object="Account")
    assert err.value.status == 500 and err.value.object == "Account" and err.value.source == "sf"
    assert calls.total == 3


@responses.activate
def test_connection_errors_are_retried_then_reported() -> None:
    responses.get(f"{DATA}/query", body=requests.ConnectionError("reset"))
    client = SalesforceClient(_session_cfg(max_retries=1), ApiCalls(source="sf"))
    with pytest.raises(ConnectorError, match="gave up after 2 attempts"):
        client.request("GET", "query")


@responses.activate
def test_401_with_session_id_only_is_an_auth_error_without_the_secret() -> None:
    responses.get(f"{DATA}/query", status=401, json=[{"errorCode": "INVALID_SESSION_ID", "message": "expired"}])
    client = SalesforceClient(_session_cfg(), ApiCalls(source="sf"))
    with pytest.raises(AuthError) as err:
        client.request("GET", "query")
    assert "SECRET-SID" not in str(err.value)


@responses.activate
def test_401_logs_in_again_once_with_password() -> None:
    login = responses.post(SOAP, body=_soap_ok("SID-1"))
    responses.get(f"{DATA}/query", status=401, json=[{"errorCode": "INVALID_SESSION_ID", "message": "expired"}])
    responses.get(f"{DATA}/query", json={"totalSize": 0, "done": True, "records": []})
    calls = ApiCalls(source="sf")
    client = SalesforceClient(_password_cfg(), calls)
    assert client.request("GET", "query").parsed()["totalSize"] == 0
    assert login.call_count == 2
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer SID-1"
    assert calls.by_family == {"auth": 2, "query": 2}


@responses.activate
def test_401_after_relogin_is_an_auth_error() -> None:
    responses.post(SOAP, body=_soap_ok("SID-1"))
    responses.get(f"{DATA}/query", status=401, json=[{"errorCode": "INVALID_SESSION_ID", "message": "expired"}])
    client = SalesforceClient(_password_cfg(), ApiCalls(source="sf"))
    with pytest.raises(AuthError, match="after logging in again"):
        client.request("GET", "query")


@responses.activate
def test_budget_checked_before_each_call() -> None:
    responses.get(f"{DATA}/query", json={"totalSize": 0, "done": True, "records": []})
    calls = ApiCalls(source="sf", per_run_budget=1)
    client = SalesforceClient(_session_cfg(), calls)
    client.request("GET", "query")
    with pytest.raises(BudgetExhausted):
        client.request("GET", "query")
    assert calls.total == 1


@responses.activate
def test_describe_conditional() -> None:
    url = f"{DATA}/sobjects/Account/describe"
    responses.get(url, status=304)
    client = SalesforceClient(_session_cfg(), ApiCalls(source="sf"))
    assert client.describe("Account", if_modified_since="Mon, 01 Jan 2024 00:00:00 GMT") is None
    assert responses.calls[0].request.headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
