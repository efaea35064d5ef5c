"""Constants of the Salesforce connector: API limits, batch sizes, retry policy and the object table.

Why one place: the numbers come from Salesforce's documentation (REST query batch sizes, URI
length, Bulk API 2.0 result paging) and tests shrink some of them (e.g. `MAX_URL_LENGTH`) to reach
code paths that need a huge org otherwise. Modules read them at call time, so monkeypatching works.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---- REST ------------------------------------------------------------------------------------
# `Sforce-Query-Options: batchSize=N` accepts 200..2000; 2000 is the most records per call.
QUERY_BATCH_SIZE = 2000
# Salesforce rejects request URIs longer than 16,384 bytes (HTTP 414); keep a margin for the host.
MAX_URL_LENGTH = 16_000
# Conditional describe (If-Modified-Since) once the cached copy is this old; younger copies are used
# as they are, so an unchanged org costs no describe call at all on most runs.
DESCRIBE_MAX_AGE_S = 12 * 3600.0

# A cursor value this much older than the run that saw it can gain no more rows (commit lag is far
# shorter), so the next run may skip the rows at exactly that value that it already has (by Id).
CURSOR_SETTLE_S = 300.0

# ---- Bulk API 2.0 ------------------------------------------------------------------------------
# Records per results call (`maxRecords`); bounds the memory one CSV chunk takes.
BULK_MAX_RECORDS = 50_000
BULK_POLL_START_S = 0.2
BULK_POLL_MAX_S = 10.0
BULK_JOB_TIMEOUT_S = 3600.0
# Calls a Bulk pull needs besides one per results page (create, a few polls, slack for retries).
BULK_OVERHEAD_CALLS = 8
# Records per write-back ingest job (create, upload, close, polls, 2 result calls): one job's outcomes
# are one ledger transaction; uploads are also kept under Bulk API's 100 MB of CSV.
BULK_INGEST_MAX_RECORDS = 100_000

# ---- retries ------------------------------------------------------------------------------------
RETRY_BASE_S = 0.5
RETRY_MAX_WAIT_S = 30.0
RETRIABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RETRIABLE_ERROR_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "QUERY_TIMEOUT"})
LIMIT_ERROR_CODE = "REQUEST_LIMIT_EXCEEDED"  # the daily allowance: never retried (BudgetExhausted)
CONCURRENCY_LIMIT_MARK = "ConcurrentPerOrg"  # same code for too many long requests at once: a throttle


# ---- objects ----------------------------------------------------------------------------------
MODSTAMP = "SystemModstamp"
CREATED = "CreatedDate"


@dataclass(frozen=True)
class ObjectSpec:
    """One object the connector pulls and its cursor field (the primary key is Id on every sObject);
    `table` names its raw table when that must not follow the object's name."""

    name: str
    cursor: str = MODSTAMP
    table: str | None = None


# The sales team's survey object (config `rep_survey_object`, any name) lands in this raw table, so the
# shipped mapping reads it whatever the org calls the object.
REP_SURVEY_TABLE = "rep_survey"


# The read side: adding an object is one row. History objects are insert-only: cursor on CreatedDate.
OBJECTS: tuple[ObjectSpec, ...] = (
    ObjectSpec("User"),
    ObjectSpec("UserRole"),
    ObjectSpec("Account"),
    ObjectSpec("Opportunity"),
    ObjectSpec("OpportunityHistory", cursor=CREATED),
    ObjectSpec("OpportunityFieldHistory", cursor=CREATED),
    ObjectSpec("Lead"),
    ObjectSpec("Task"),
    ObjectSpec("Event"),
    ObjectSpec("ForecastingQuota"),
    ObjectSpec("CurrencyType"),
    ObjectSpec("DatedConversionRate"),
    ObjectSpec("Period"),
    ObjectSpec("FiscalYearSettings"),
    ObjectSpec("OpportunitySplit"),
    ObjectSpec("OpportunitySplitType"),
)

# Field types never queried: compound fields (their components are) and file bodies.
SKIPPED_FIELD_TYPES = frozenset({"address", "location", "base64"})
