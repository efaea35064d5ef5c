"""A Salesforce org as the REST API and Bulk API 2.0 documentation describe it (not as our sandbox does).

Documented behaviour this fake leans on, deliberately unlike `spm_sync.sandbox`:
- Query / QueryAll: "the returned batch can include fewer records than ... what's set in the request"
  (137 per page here, whatever `Sforce-Query-Options: batchSize` asks); `nextRecordsUrl` only while
  `done` is false (absent on the last page, or `null` with `last_page_next="null"`); every record carries
  `attributes`, and reference fields come with their relationship object although it was not selected.
- Values are typed JSON: datetimes as `2026-01-05T09:30:00.000+0000`, dates `2026-01-05`, currency
  as JSON numbers (integers where whole), nulls for every empty optional field.
- Describe lists fields Salesforce returns but a query cannot use well (`address` compounds,
  `deprecatedAndHidden`), with extra keys (`label`, `nillable`, `referenceTo`, ...).
- Bulk API 2.0 query jobs: `UploadComplete` on create, `InProgress` on the first poll, results as CSV
  in a column order of the fake's own (reversed), fully quoted and minimally quoted chunks alternating,
  embedded newlines/quotes/commas, `Sforce-Locator: null` on the last chunk, `Sforce-NumberOfRecords`.
- Every response carries `Sforce-Limit-Info: api-usage=N/MAX`; `/limits` gives DailyApiRequests.
- Faults are scripted explicitly (`fail_next`), e.g. a 502 with an HTML body from the load balancer.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tests.fakes.wire import Reply, Request, Scripted, json_reply

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
_DATA = re.compile(r"^/services/data/v(?P<version>\d+\.\d)/(?P<rest>.*?)/?$")


@dataclass
class SObject:
    """One object of the org: describe fields (API name, type) and typed Python records."""

    name: str
    fields: list[tuple[str, str]]
    records: list[Record] = field(default_factory=list)
    hidden: tuple[str, ...] = ()  # fields described as deprecatedAndHidden

    def canonical(self, name: str) -> str | None:
        """SOQL names are case-insensitive; records use the describe's spelling."""
        return next((f for f, _ in self.fields if f.lower() == name.lower()), None)

    def type_of(self, name: str) -> str:
        return dict(self.fields)[name]


# ---- SOQL (the subset a sync client sends: SELECT .. FROM .. WHERE .. ORDER BY ..) --------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))"
    r"|(?P<date>\d{4}-\d{2}-\d{2})|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)


class SoqlError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SoqlError(f"unexpected token at {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        value: Any = raw
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        elif kind == "dt":
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        elif kind == "date":
            value = date.fromisoformat(raw)
        elif kind == "num":
            value = float(raw)
        elif kind == "word" and raw.lower() in ("true", "false", "null"):
            kind, value = "lit", {"true": True, "false": False, "null": None}[raw.lower()]
        out.append((kind, value))
        position = match.end()
    return out


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None or right is None:
        return (left is right) if op == "=" else (left is not right) if op in ("!=", "<>") else False
    if isinstance(left, bool) or isinstance(right, bool):
        left, right = bool(left), bool(right)
    elif isinstance(left, datetime) and isinstance(right, date) and not isinstance(right, datetime):
        left = left.date()
    return {"=": left == right, "!=": left != right, "<>": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right}[op]


@dataclass
class Query:
    object: str
    fields: list[str]
    where: Predicate
    order_by: list[tuple[str, bool]]  # (field, descending)


class _Parser:
    def __init__(self, text: str, objects: dict[str, SObject]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.objects = objects
        self.sobject: SObject | None = None

    def peek(self, *words: str) -> bool:
        if self.at >= len(self.tokens):
            return False
        kind, value = self.tokens[self.at]
        return kind == "word" and value.upper() in words

    def take(self) -> tuple[str, Any]:
        if self.at >= len(self.tokens):
            raise SoqlError("unexpected end of query")
        self.at += 1
        return self.tokens[self.at - 1]

    def keyword(self, word: str) -> None:
        kind, value = self.take()
        if kind != "word" or value.upper() != word:
            raise SoqlError(f"expected {word}, got {value!r}")

    def field(self) -> str:
        kind, value = self.take()
        assert self.sobject is not None
        name = self.sobject.canonical(str(value)) if kind == "word" else None
        if name is None:
            raise SoqlError(f"No such column '{value}' on entity '{self.sobject.name}'")
        return name

    def parse(self) -> Query:
        self.keyword("SELECT")
        names = [str(self.take()[1])]
        while self.tokens[self.at] == ("punct", ","):
            self.at += 1
            names.append(str(self.take()[1]))
        self.keyword("FROM")
        object_name = str(self.take()[1])
        self.sobject = next((o for o in self.objects.values() if o.name.lower() == object_name.lower()), None)
        if self.sobject is None:
            raise SoqlError(f"sObject type '{object_name}' is not supported.")
        fields = []
        for name in names:
            canonical = self.sobject.canonical(name)
            if canonical is None:
                raise SoqlError(f"No such column '{name}' on entity '{self.sobject.name}'")
            fields.append(canonical)
        where: Predicate = lambda _record: True  # noqa: E731
        if self.peek("WHERE"):
            self.at += 1
            where = self.disjunction()
        order: list[tuple[str, bool]] = []
        if self.peek("ORDER"):
            self.at += 1
            self.keyword("BY")
            while True:
                name = self.field()
                descending = False
                if self.peek("ASC", "DESC"):
                    descending = self.take()[1].upper() == "DESC"
                order.append((name, descending))
                if self.at < len(self.tokens) and self.tokens[self.at] == ("punct", ","):
                    self.at += 1
                    continue
                break
        if self.at != len(self.tokens):
            raise SoqlError(f"unexpected token: {self.tokens[self.at][1]!r}")
        return Query(self.sobject.name, fields, where, order)

    def disjunction(self) -> Predicate:
        return self._joined("OR", self.conjunction, any)

    def conjunction(self) -> Predicate:
        return self._joined("AND", self.condition, all)

    def _joined(self, word: str, operand: Callable[[], Predicate],
                combine: Callable[[Iterable[bool]], bool]) -> Predicate:
        parts = [operand()]
        while self.peek(word):
            self.at += 1
            parts.append(operand())
        return lambda record: combine(p(record) for p in parts)

    def condition(self) -> Predicate:
        if self.peek("NOT"):
            self.at += 1
            inner = self.condition()
            return lambda record: not inner(record)
        if self.tokens[self.at] == ("punct", "("):
            self.at += 1
            inner = self.disjunction()
            if self.take() != ("punct", ")"):
                raise SoqlError("expected )")
            return inner
        name = self.field()
        kind, op = self.take()
        if kind != "op":
            raise SoqlError(f"expected an operator after {name}")
        _kind, value = self.take()
        return lambda record: _compare(record.get(name), op, value)


def parse_soql(text: str, objects: dict[str, SObject]) -> Query:
    return _Parser(text, objects).parse()


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)  # ascending puts nulls first (SOQL's default)


def run_query(query: Query, records: list[Record]) -> list[Record]:
    rows = [r for r in records if query.where(r)]
    for name, descending in reversed(query.order_by):
        rows.sort(key=lambda r, n=name: _sort_key(r.get(n)), reverse=descending)
    return rows


# ---- wire formats ----------------------------------------------------------------------------------
def _millis(value: datetime, zone: str) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}{zone}"


def json_value(value: Any) -> Any:
    """REST JSON: `2026-01-05T09:30:00.000+0000` datetimes, ISO dates, whole numbers without `.0`."""
    if isinstance(value, datetime):
        return _millis(value, "+0000")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def csv_value(value: Any) -> str:
    """Bulk CSV: `...000Z` datetimes, `true`/`false`, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _millis(value, "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class _Cursor:
    rows: list[Record]
    query: Query


@dataclass
class _Job:
    query: Query
    operation: str
    rows: list[Record]
    polls: int = 0
    state: str = "UploadComplete"


class SalesforceDocsOrg(Scripted):
    """The request handler of one fake org (see module docstring); records live in `objects`."""

    def __init__(
        self,
        objects: list[SObject],
        *,
        session_id: str = "00Dfake!docs.session",
        page_size: int = 137,
        bulk_chunk: int = 120,
        daily_max: int = 15_000,
        last_page_next: str = "absent",
        instance_version: str = "62.0",
    ) -> None:
        self.objects = {o.name: o for o in objects}
        self.session_id = session_id
        self.page_size = page_size
        self.bulk_chunk = bulk_chunk
        self.daily_max = daily_max
        self.last_page_next = last_page_next
        self.version = instance_version
        super().__init__()
        self._cursors: dict[str, _Cursor] = {}
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count(1)

    # ---- dispatch ----------------------------------------------------------------------------------
    def __call__(self, request: Request) -> Reply:
        reply = self.scripted(request) or self._dispatch(request)
        used = len(self.calls)
        reply.headers.setdefault("Sforce-Limit-Info",
                                 f"api-usage={used}/{self.daily_max}; per-app-api-usage={used}/250(appName=spm-sync)")
        return reply

    def _dispatch(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.session_id}":
            return json_reply(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        match = _DATA.match(request.path)
        if match is None:
            return json_reply(404, NOT_FOUND)
        parts = match.group("rest").split("/")
        try:
            return self._route(request, parts)
        except SoqlError as exc:
            return json_reply(400, [{"message": str(exc), "errorCode": "MALFORMED_QUERY"}])

    def _route(self, request: Request, parts: list[str]) -> Reply:
        head, method = parts[0], request.method
        if head == "sobjects" and len(parts) == 3 and parts[2] == "describe" and method == "GET":
            return self._describe(parts[1])
        if head in ("query", "queryAll") and method == "GET":
            return self._query_more(parts[1]) if len(parts) == 2 else self._query(request, head == "queryAll")
        if head == "jobs" and parts[1:2] == ["query"]:
            if len(parts) == 2 and method == "POST":
                return self._create_job(request.json())
            if len(parts) == 3 and method == "GET":
                return self._job_info(parts[2])
            if len(parts) == 3 and method == "PATCH":
                job = self._jobs[parts[2]]
                job.state = request.json().get("state", job.state)
                return self._job_info(parts[2])
            if len(parts) == 4 and parts[3] == "results" and method == "GET":
                return self._results(parts[2], request)
        if head == "limits" and method == "GET":
            remaining = self.daily_max - len(self.calls)
            return json_reply(200, {"DailyApiRequests": {"Max": self.daily_max, "Remaining": remaining},
                                    "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": 9_999}})
        return json_reply(404, NOT_FOUND)

    # ---- describe ----------------------------------------------------------------------------------
    def _describe(self, name: str) -> Reply:
        sobject = self.objects.get(name)
        if sobject is None:
            return json_reply(404, NOT_FOUND)
        fields = []
        for api_name, sf_type in sobject.fields:
            entry: dict[str, Any] = {
                "name": api_name, "type": sf_type, "label": api_name.replace("__c", "").replace("_", " "),
                "nillable": api_name != "Id", "custom": api_name.endswith("__c"), "length": 0,
                "deprecatedAndHidden": api_name in sobject.hidden, "filterable": True, "picklistValues": [],
            }
            if sf_type == "reference":
                entry["referenceTo"] = ["User"] if api_name.endswith("OwnerId") else [api_name[:-2] or "Account"]
                entry["relationshipName"] = api_name[:-2]
            fields.append(entry)
        body = {"name": sobject.name, "label": sobject.name, "queryable": True, "retrieveable": True,
                "custom": sobject.name.endswith("__c"), "fields": fields, "childRelationships": [],
                "urls": {"describe": f"/services/data/v{self.version}/sobjects/{sobject.name}/describe"}}
        return json_reply(200, body, **{"Last-Modified": "Mon, 05 Jan 2026 09:30:00 GMT"})

    # ---- REST query ---------------------------------------------------------------------------------
    def _visible(self, query: Query, include_deleted: bool) -> list[Record]:
        records = self.objects[query.object].records
        if not include_deleted:
            records = [r for r in records if not r.get("IsDeleted")]
        return run_query(query, records)

    def _query(self, request: Request, include_deleted: bool) -> Reply:
        query = parse_soql(request.param("q") or "", self.objects)
        rows = self._visible(query, include_deleted)
        options = request.headers.get("sforce-query-options", "")
        asked = int(m.group(1)) if (m := re.search(r"batchSize=(\d+)", options)) else 2000
        locator = f"01gFAKE{next(self._ids):08d}"
        self._cursors[locator] = _Cursor(rows, query)
        return self._page(locator, 0, min(asked, self.page_size))

    def _query_more(self, token: str) -> Reply:
        locator, _, offset = token.rpartition("-")
        cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit():
            return json_reply(400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}])
        return self._page(locator, int(offset), self.page_size)

    def _page(self, locator: str, offset: int, size: int) -> Reply:
        cursor = self._cursors[locator]
        chunk = cursor.rows[offset:offset + size]
        end = offset + len(chunk)
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": end >= len(cursor.rows)}
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/v{self.version}/query/{locator}-{end}"
        elif self.last_page_next == "null":
            body["nextRecordsUrl"] = None
        body["records"] = [self._rest_record(cursor.query, r) for r in chunk]
        return json_reply(200, body)

    def _rest_record(self, query: Query, record: Record) -> Record:
        sobject = self.objects[query.object]
        out: Record = {"attributes": {"type": sobject.name,
                                      "url": f"/services/data/v{self.version}/sobjects/{sobject.name}/{record['Id']}"}}
        for name in query.fields:
            value = record.get(name)
            out[name] = json_value(value)
            if sobject.type_of(name) == "reference" and value is not None and name.endswith("Id") and len(name) > 2:
                out[name[:-2]] = {"attributes": {"type": "Name", "url": f"/services/data/v{self.version}/x/{value}"},
                                  "Id": value}
        return out

    # ---- Bulk API 2.0 query --------------------------------------------------------------------------
    def _create_job(self, body: dict[str, Any]) -> Reply:
        operation = body.get("operation", "query")
        query = parse_soql(body.get("query", ""), self.objects)
        if query.order_by:
            return json_reply(400, [{"errorCode": "API_ERROR", "message": "ORDER BY is not supported"}])
        job_id = f"750FAKE{next(self._ids):011d}"
        self._jobs[job_id] = _Job(query, operation, self._visible(query, operation == "queryAll"))
        return json_reply(200, self._job_body(job_id))

    def _job_body(self, job_id: str) -> dict[str, Any]:
        job = self._jobs[job_id]
        return {"id": job_id, "operation": job.operation, "object": job.query.object, "createdById": "005FAKE",
                "createdDate": "2026-01-05T09:30:00.000+0000", "systemModstamp": "2026-01-05T09:30:01.000+0000",
                "state": job.state, "concurrencyMode": "Parallel", "contentType": "CSV",
                "apiVersion": float(self.version), "lineEnding": "LF", "columnDelimiter": "COMMA",
                "numberRecordsProcessed": len(job.rows) if job.state == "JobComplete" else 0,
                "retries": 0, "totalProcessingTime": 40}

    def _job_info(self, job_id: str) -> Reply:
        job = self._jobs.get(job_id)
        if job is None:
            return json_reply(404, NOT_FOUND)
        job.polls += 1
        if job.state != "Aborted":
            job.state = "InProgress" if job.polls == 1 else "JobComplete"
        return json_reply(200, self._job_body(job_id))

    def _results(self, job_id: str, request: Request) -> Reply:
        job = self._jobs.get(job_id)
        if job is None or job.state != "JobComplete":
            return json_reply(400, [{"errorCode": "INVALIDJOBSTATE", "message": "job not complete"}])
        token = request.param("locator")
        offset = int(base64.b64decode(token).decode()) if token else 0
        size = min(int(request.param("maxRecords") or self.bulk_chunk), self.bulk_chunk)
        chunk = job.rows[offset:offset + size]
        end = offset + len(chunk)
        columns = list(reversed(job.query.fields))  # results need not follow the SELECT order
        out = io.StringIO()
        quoting = csv.QUOTE_ALL if (offset // max(size, 1)) % 2 == 0 else csv.QUOTE_MINIMAL
        writer = csv.writer(out, lineterminator="\n", quoting=quoting)
        writer.writerow(columns)
        for record in chunk:
            writer.writerow([csv_value(record.get(c)) for c in columns])
        next_locator = base64.b64encode(str(end).encode()).decode() if end < len(job.rows) else "null"
        return Reply(200, out.getvalue().encode(), {
            "Content-Type": "text/csv", "Sforce-Locator": next_locator, "Sforce-NumberOfRecords": str(len(chunk)),
        })
