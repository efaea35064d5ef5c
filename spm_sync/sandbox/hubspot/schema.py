"""Static HubSpot portal metadata: object types, property definitions, pipeline, association types.

Why a table of data: the emulator's faithfulness lives in these names (``lastmodifieddate`` on
contacts but ``hs_lastmodifieddate`` elsewhere, ``hs_createdate`` on engagements, default
properties per object), so they are declared once here and read by every handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# HubSpot property types and the field types the UI uses for them.
STRING, NUMBER, DATE, DATETIME = "string", "number", "date", "datetime"
ENUMERATION, BOOL = "enumeration", "bool"
DEFAULT_FIELD_TYPE = {
    STRING: "text",
    NUMBER: "number",
    DATE: "date",
    DATETIME: "date",
    ENUMERATION: "select",
    BOOL: "booleancheckbox",
}


@dataclass(frozen=True)
class PropertyDef:
    """One property definition as `GET /crm/v3/properties/{objectType}` describes it."""

    name: str
    label: str
    type: str = STRING
    field_type: str = ""
    group: str = "dealinformation"
    hubspot_defined: bool = True
    read_only: bool = False
    unique: bool = False
    options: tuple[str, ...] = ()
    calculated: bool = False
    number_display_hint: str | None = None  # number properties: formatted, unformatted, currency, percentage, ...
    show_currency_symbol: bool = False

    @property
    def effective_field_type(self) -> str:
        """The UI field type, defaulted from the value type."""
        return self.field_type or DEFAULT_FIELD_TYPE[self.type]


@dataclass(frozen=True)
class ObjectTypeDef:
    """What differs between HubSpot object types."""

    name: str
    type_id: str
    created_prop: str
    modified_prop: str
    default_props: tuple[str, ...]
    scope: str
    group: str
    properties: tuple[PropertyDef, ...] = field(default=())


def _p(name: str, label: str, type_: str = STRING, **kw: object) -> PropertyDef:
    return PropertyDef(name, label, type_, **kw)  # type: ignore[arg-type]


def _bookkeeping(created: str, modified: str) -> tuple[PropertyDef, ...]:
    """The read-only id and stamps every object carries."""
    return (
        _p("hs_object_id", "Record ID", NUMBER, read_only=True),
        _p(created, "Create Date", DATETIME),
        _p(modified, "Last Modified Date", DATETIME, read_only=True),
    )


DEAL_STAGES: tuple[tuple[str, str, str, bool], ...] = (
    # id, label, probability, closed — HubSpot's default "Sales Pipeline" in its display order.
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
)
STAGE_IDS = tuple(stage[0] for stage in DEAL_STAGES)

# Canonical data set stage -> HubSpot default pipeline stage id (docs/CONTRACTS.md).
CANONICAL_STAGE = {
    "prospecting": "appointmentscheduled",
    "qualification": "qualifiedtobuy",
    "needs_analysis": "presentationscheduled",
    "proposal": "contractsent",
    "negotiation": "decisionmakerboughtin",
    "closed_won": "closedwon",
    "closed_lost": "closedlost",
}

# `hs_analytics_source` values, and the one each canonical lead source is served as (distinct values).
ANALYTICS_SOURCES = (
    "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS", "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL",
)
CANONICAL_SOURCE = {
    "Web": "ORGANIC_SEARCH", "Referral": "REFERRALS", "Partner": "OTHER_CAMPAIGNS", "Outbound": "OFFLINE",
    "Event": "DIRECT_TRAFFIC",
}

# Write-back targets on the users object (docs/CONTRACTS.md): custom number properties, each with the
# display hint `spm-sync writeback setup` gives its metric (a ratio is a percentage, money a currency), so a
# portal that already has them is one setup would have made, not a type conflict.
WRITEBACK_NUMBER_PROPS: tuple[tuple[str, str, str], ...] = (
    ("spm_quota_attainment", "SPM Quota Attainment", "percentage"),
    ("spm_revenue_won", "SPM Revenue Won", "currency"),
    ("spm_win_rate", "SPM Win Rate", "percentage"),
    ("spm_calls_this_month", "SPM Calls This Month", "formatted"),
    ("spm_pipeline_coverage", "SPM Pipeline Coverage", "formatted"),
    ("spm_nps", "SPM NPS", "formatted"),
)

_DEAL_PROPS = (
    *_bookkeeping("createdate", "hs_lastmodifieddate"),
    _p("dealname", "Deal Name"),
    _p("amount", "Amount", NUMBER),
    _p("deal_currency_code", "Currency", ENUMERATION, options=("USD", "EUR", "GBP", "CAD", "AUD", "JPY")),
    _p("amount_in_home_currency", "Amount in company currency", NUMBER, read_only=True, calculated=True),
    _p("dealstage", "Deal Stage", ENUMERATION, field_type="radio", options=STAGE_IDS),
    _p("pipeline", "Pipeline", ENUMERATION, options=("default",)),
    _p("closedate", "Close Date", DATETIME),
    _p("hubspot_owner_id", "Deal owner", ENUMERATION),
    # When the current owner was assigned (set by HubSpot on every owner change; read-only).
    _p("hubspot_owner_assigneddate", "Owner assigned date", DATETIME, read_only=True, calculated=True),
    # Set by HubSpot's Salesforce integration on the deals it syncs: the Salesforce Opportunity Id.
    _p("hs_salesforceopportunityid", "Salesforce Opportunity ID", group="salesforceinformation"),
    _p("hs_is_closed", "Is Deal Closed?", BOOL, read_only=True, calculated=True),
    _p("hs_is_closed_won", "Is Closed Won", BOOL, read_only=True, calculated=True),
    _p("hs_arr", "Annual recurring revenue", NUMBER, read_only=True, calculated=True),
    _p("arr", "ARR", NUMBER, hubspot_defined=False),
    _p("dealtype", "Deal Type", ENUMERATION, field_type="radio", options=("newbusiness", "existingbusiness")),
    # Free text the rep types when closing (HubSpot's default deal properties; reasons are not a picklist).
    _p("closed_lost_reason", "Closed Lost Reason", field_type="textarea"),
    _p("closed_won_reason", "Closed Won Reason", field_type="textarea"),
    # The deal's original source, set by HubSpot from the contacts it came from (read-only).
    _p("hs_analytics_source", "Original Source Type", ENUMERATION, read_only=True, calculated=True,
       group="analyticsinformation", options=ANALYTICS_SOURCES),
    _p("hs_deal_stage_probability", "Deal probability", NUMBER, read_only=True, calculated=True),
    *(
        _p(f"{prefix}{stage}", f"Date entered '{label}' ({prefix.rstrip('_')})", DATETIME, read_only=True)
        for stage, label, _prob, _closed in DEAL_STAGES
        for prefix in ("hs_v2_date_entered_", "hs_date_entered_")
    ),
)

_LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
_CONTACT_PROPS = (
    *_bookkeeping("createdate", "lastmodifieddate"),
    _p("email", "Email", group="contactinformation", unique=True),
    _p("firstname", "First Name", group="contactinformation"),
    _p("lastname", "Last Name", group="contactinformation"),
    _p("company", "Company Name", group="contactinformation"),
    _p("lifecyclestage", "Lifecycle Stage", ENUMERATION, group="contactinformation", options=_LIFECYCLE),
    _p("hs_lead_status", "Lead Status", ENUMERATION, group="contactinformation",
       options=("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
                "BAD_TIMING")),
    _p("hubspot_owner_id", "Contact owner", ENUMERATION, group="contactinformation"),
    _p("salesforceleadid", "Salesforce Lead ID", group="salesforceinformation"),
    _p("salesforcecontactid", "Salesforce Contact ID", group="salesforceinformation"),
    _p("hs_lifecyclestage_lead_date", "Became a Lead Date", DATETIME, read_only=True),
    _p("hs_lifecyclestage_opportunity_date", "Became an Opportunity Date", DATETIME, read_only=True),
    _p("hs_lifecyclestage_customer_date", "Became a Customer Date", DATETIME, read_only=True),
)

_COMPANY_PROPS = (
    *_bookkeeping("createdate", "hs_lastmodifieddate"),
    _p("name", "Company name", group="companyinformation"),
    _p("domain", "Company Domain Name", group="companyinformation", unique=False),
    _p("industry", "Industry", ENUMERATION, group="companyinformation"),
    _p("hubspot_owner_id", "Company owner", ENUMERATION, group="companyinformation"),
    _p("salesforceaccountid", "Salesforce Account ID", group="salesforceinformation"),
)

_ENGAGEMENT_COMMON = (
    *_bookkeeping("hs_createdate", "hs_lastmodifieddate"),
    _p("hs_timestamp", "Activity date", DATETIME, group="engagement"),
    _p("hubspot_owner_id", "Activity assigned to", ENUMERATION, group="engagement"),
)

_CALL_PROPS = (
    *_ENGAGEMENT_COMMON,
    _p("hs_call_title", "Call Title", group="call"),
    _p("hs_call_status", "Call status", ENUMERATION, group="call",
       options=("BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED", "IN_PROGRESS",
                "NO_ANSWER", "QUEUED", "RINGING")),
    _p("hs_call_direction", "Call direction", ENUMERATION, group="call", options=("INBOUND", "OUTBOUND")),
    _p("hs_call_duration", "Call duration", NUMBER, group="call"),
)
_EMAIL_PROPS = (
    *_ENGAGEMENT_COMMON,
    _p("hs_email_subject", "Email subject", group="email"),
    _p("hs_email_direction", "Email direction", ENUMERATION, group="email",
       options=("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL")),
    _p("hs_email_status", "Email send status", ENUMERATION, group="email",
       options=("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT")),
)
_MEETING_PROPS = (
    *_ENGAGEMENT_COMMON,
    _p("hs_meeting_title", "Meeting name", group="meeting"),
    _p("hs_meeting_start_time", "Meeting start time", DATETIME, group="meeting"),
    _p("hs_meeting_end_time", "Meeting end time", DATETIME, group="meeting"),
    _p("hs_meeting_outcome", "Meeting outcome", ENUMERATION, group="meeting",
       options=("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED")),
)
_TASK_PROPS = (
    *_ENGAGEMENT_COMMON,
    _p("hs_task_subject", "Task Title", group="task"),
    _p("hs_task_status", "Task Status", ENUMERATION, group="task",
       options=("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")),
    _p("hs_task_type", "Task Type", ENUMERATION, group="task", options=("CALL", "EMAIL", "TODO")),
    _p("hs_task_priority", "Priority", ENUMERATION, group="task", options=("NONE", "LOW", "MEDIUM", "HIGH")),
)

_USER_PROPS = (
    *_bookkeeping("hs_createdate", "hs_lastmodifieddate"),
    _p("hs_internal_user_id", "User ID", NUMBER, group="userinformation", read_only=True),
    _p("hs_email", "Email", group="userinformation", read_only=True),
    _p("hs_given_name", "First name", group="userinformation"),
    _p("hs_family_name", "Last name", group="userinformation"),
    _p("spm_rep_key", "SPM rep key", group="userinformation", hubspot_defined=False, unique=True),
    *(_p(name, label, NUMBER, group="userinformation", hubspot_defined=False, number_display_hint=hint,
         show_currency_symbol=hint == "currency")
      for name, label, hint in WRITEBACK_NUMBER_PROPS),
)

_GOAL_PROPS = (
    *_bookkeeping("hs_createdate", "hs_lastmodifieddate"),
    _p("hs_goal_name", "Goal name", group="goal_target_information"),
    _p("hs_target_amount", "Target amount", NUMBER, group="goal_target_information"),
    _p("hs_start_datetime", "Start date", DATETIME, group="goal_target_information"),
    _p("hs_end_datetime", "End date", DATETIME, group="goal_target_information"),
    _p("hs_assignee_user_id", "Assignee user ID", NUMBER, group="goal_target_information"),
    _p("hs_assignee_team_id", "Assignee team ID", NUMBER, group="goal_target_information"),
    _p("hs_kpi_display_unit", "KPI display unit", ENUMERATION, group="goal_target_information",
       options=("currency", "number", "percent")),
    _p("hs_goal_type", "Goal type", ENUMERATION, group="goal_target_information", options=("revenue",)),
)

_FEEDBACK_PROPS = (
    *_bookkeeping("hs_createdate", "hs_lastmodifieddate"),
    _p("hs_survey_type", "Survey type", ENUMERATION, group="feedbacksubmissioninformation",
       options=("NPS", "CSAT", "CES", "CUSTOM"), read_only=True),
    _p("hs_survey_name", "Survey name", group="feedbacksubmissioninformation", read_only=True),
    _p("hs_survey_channel", "Survey channel", ENUMERATION, group="feedbacksubmissioninformation",
       options=("EMAIL", "WEB", "CHAT"), read_only=True),
    _p("hs_response_value", "Response value", group="feedbacksubmissioninformation", read_only=True),
    _p("hs_value", "Value", NUMBER, group="feedbacksubmissioninformation", read_only=True),
    _p("hs_sentiment", "Sentiment", ENUMERATION, group="feedbacksubmissioninformation",
       options=("Promoter", "Passive", "Detractor", "Positive", "Neutral", "Negative"), read_only=True),
    _p("hs_content", "Response", group="feedbacksubmissioninformation", read_only=True),
    _p("hs_submission_timestamp", "Submission timestamp", DATETIME, group="feedbacksubmissioninformation",
       read_only=True),
    _p("hubspot_owner_id", "Owner", ENUMERATION, group="feedbacksubmissioninformation", read_only=True),
)


def _object(name: str, type_id: str, created: str, modified: str, defaults: tuple[str, ...], scope: str,
            group: str, props: tuple[PropertyDef, ...]) -> ObjectTypeDef:
    return ObjectTypeDef(name, type_id, created, modified, defaults, scope, group, props)


_ENGAGEMENT_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")

OBJECT_TYPES: dict[str, ObjectTypeDef] = {
    spec.name: spec
    for spec in (
        _object("contacts", "0-1", "createdate", "lastmodifieddate",
                ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
                "crm.objects.contacts", "contactinformation", _CONTACT_PROPS),
        _object("companies", "0-2", "createdate", "hs_lastmodifieddate",
                ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
                "crm.objects.companies", "companyinformation", _COMPANY_PROPS),
        _object("deals", "0-3", "createdate", "hs_lastmodifieddate",
                ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
                 "hs_object_id", "pipeline"),
                "crm.objects.deals", "dealinformation", _DEAL_PROPS),
        _object("calls", "0-48", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.objects.contacts", "call", _CALL_PROPS),
        _object("emails", "0-49", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.objects.contacts", "email", _EMAIL_PROPS),
        _object("meetings", "0-47", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.objects.contacts", "meeting", _MEETING_PROPS),
        _object("tasks", "0-27", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.objects.contacts", "task", _TASK_PROPS),
        _object("users", "0-115", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.objects.users", "userinformation", _USER_PROPS),
        _object("goal_targets", "0-74", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.objects.goals", "goal_target_information", _GOAL_PROPS),
        _object("feedback_submissions", "0-19", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.objects.feedback_submissions", "feedbacksubmissioninformation", _FEEDBACK_PROPS),
        # Standard types every portal has, never seeded here: they answer as an empty portal's do
        # (empty lists, their bookkeeping properties, no associations), not "Unable to infer object type".
        *(_object(name, type_id, "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS, scope,
                  f"{name.rstrip('s')}information", _bookkeeping("hs_createdate", "hs_lastmodifieddate"))
          for name, type_id, scope in (
              ("tickets", "0-5", "tickets"), ("products", "0-7", "e-commerce"), ("line_items", "0-8", "e-commerce"),
              ("quotes", "0-14", "crm.objects.quotes"), ("communications", "0-18", "crm.objects.contacts"),
              ("notes", "0-46", "crm.objects.contacts"), ("invoices", "0-53", "crm.objects.invoices"),
              ("postal_mail", "0-116", "crm.objects.contacts"), ("leads", "0-136", "crm.objects.leads"),
              ("forms", "form", "forms"),  # no published type id: reachable by its names only
          )),
        # Deal splits are read through the splits API; as an object type they only describe their properties.
        _object("deal_splits", "deal_split", "hs_createdate", "hs_lastmodifieddate", _ENGAGEMENT_DEFAULTS,
                "crm.dealsplits.read_write", "dealsplitinformation",
                (*_bookkeeping("hs_createdate", "hs_lastmodifieddate"),
                 _p("hs_deal_split_percentage", "Deal split percentage", NUMBER, group="dealsplitinformation"),
                 _p("hubspot_owner_id", "Owner", ENUMERATION, group="dealsplitinformation"))),
    )
}

# Singular names and type ids HubSpot accepts in paths as aliases of the plural object type.
OBJECT_ALIASES: dict[str, str] = {
    **{spec.type_id: name for name, spec in OBJECT_TYPES.items()},
    "contact": "contacts", "company": "companies", "deal": "deals", "call": "calls", "email": "emails",
    "meeting": "meetings", "task": "tasks", "user": "users", "goal_target": "goal_targets",
    "feedback_submission": "feedback_submissions", "ticket": "tickets", "product": "products",
    "line_item": "line_items", "quote": "quotes", "communication": "communications", "note": "notes",
    "invoice": "invoices", "lead": "leads", "deal_split": "deal_splits",
}


def resolve_object_type(raw: str) -> str | None:
    """Map a path segment (plural, singular, or `0-3` style id) to our object type name."""
    key = raw.lower()
    if key in OBJECT_TYPES:
        return key
    return OBJECT_ALIASES.get(key)


@dataclass(frozen=True)
class AssociationType:
    """One direction of a HubSpot-defined association type."""

    type_id: int
    name: str  # v3 inline `type`
    label: str | None = None


# (from, to) -> the association types a seeded pair carries, primary first. Ids per HubSpot's
# association type table (e.g. deal->company primary 5, unlabeled 341).
_PAIR_TYPES: dict[tuple[str, str], tuple[AssociationType, ...]] = {
    ("deals", "companies"): (AssociationType(5, "deal_to_company", "Primary"),
                             AssociationType(341, "deal_to_company_unlabeled")),
    ("companies", "deals"): (AssociationType(6, "company_to_deal", "Primary"),
                             AssociationType(342, "company_to_deal_unlabeled")),
    ("contacts", "companies"): (AssociationType(1, "contact_to_company", "Primary"),
                                AssociationType(279, "contact_to_company_unlabeled")),
    ("companies", "contacts"): (AssociationType(2, "company_to_contact", "Primary"),
                                AssociationType(280, "company_to_contact_unlabeled")),
    ("deals", "contacts"): (AssociationType(3, "deal_to_contact"),),
    ("contacts", "deals"): (AssociationType(4, "contact_to_deal"),),
}
_ENGAGEMENT_TYPE_IDS = {
    # engagement: (to contact, to company, to deal) and the reverse ids (from contact, company, deal)
    "calls": ((194, 182, 206), (193, 181, 205)),
    "emails": ((198, 186, 210), (197, 185, 209)),
    "meetings": ((200, 188, 212), (199, 187, 211)),
    "tasks": ((204, 192, 216), (203, 191, 215)),
}
for _eng, (_fwd, _rev) in _ENGAGEMENT_TYPE_IDS.items():
    _single = _eng[:-1]
    for _other, _fid, _rid in zip(("contacts", "companies", "deals"), _fwd, _rev, strict=True):
        _osingle = {"contacts": "contact", "companies": "company", "deals": "deal"}[_other]
        _PAIR_TYPES[(_eng, _other)] = (AssociationType(_fid, f"{_single}_to_{_osingle}"),)
        _PAIR_TYPES[(_other, _eng)] = (AssociationType(_rid, f"{_osingle}_to_{_single}"),)
# Feedback submissions link to the contact who answered and that contact's company.
_PAIR_TYPES[("feedback_submissions", "contacts")] = (AssociationType(97, "feedback_submission_to_contact"),)
_PAIR_TYPES[("contacts", "feedback_submissions")] = (AssociationType(96, "contact_to_feedback_submission"),)
_PAIR_TYPES[("feedback_submissions", "companies")] = (AssociationType(99, "feedback_submission_to_company"),)
_PAIR_TYPES[("companies", "feedback_submissions")] = (AssociationType(98, "company_to_feedback_submission"),)


def pair_types(from_type: str, to_type: str) -> tuple[AssociationType, ...]:
    """Every association type defined in the (from, to) direction (the types and labels endpoints)."""
    return _PAIR_TYPES.get((from_type, to_type), ())


def association_types(from_type: str, to_type: str, primary: bool) -> tuple[AssociationType, ...]:
    """The types an association carries in the (from, to) direction; non-primary drops the label."""
    types = _PAIR_TYPES.get((from_type, to_type), ())
    if primary or len(types) < 2:
        return types
    return types[1:]
