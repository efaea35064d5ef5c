"""The emulated org's metadata: objects, fields and their describe flags.

Why one table of field specs: describe, SOQL validation, write validation and the storage kind of
every column all derive from the same row, so they can never disagree (a field that describe says
is not updateable is also refused by the write APIs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Storage kinds of a column (see store.py): how values are kept in numpy arrays.
STORAGE_BY_TYPE: dict[str, str] = {
    "id": "id",
    "reference": "ref",
    "string": "str",
    "textarea": "str",
    "picklist": "str",
    "email": "str",
    "phone": "str",
    "url": "str",
    "boolean": "bool",
    "double": "float",
    "currency": "float",
    "percent": "float",
    "int": "int",
    "date": "date",
    "datetime": "datetime",
    "address": "compound",
    "anyType": "str",  # OldValue/NewValue of field history: ids, names, numbers all arrive as text here
}
SOAP_TYPES: dict[str, str] = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
    "anyType": "xsd:anyType",
}


@dataclass(frozen=True)
class FieldSpec:
    """One field as describe reports it; `storage` overrides the kind derived from `type`."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    custom: bool = False
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    defaulted_on_create: bool = False
    calculated: bool = False
    storage_override: str | None = None
    components: tuple[str, ...] = ()  # compound fields: the component field names

    @property
    def storage(self) -> str:
        return self.storage_override or STORAGE_BY_TYPE[self.type]

    @property
    def filterable(self) -> bool:
        """Long text areas can be neither filtered nor sorted, as in a real org."""
        return not (self.type == "textarea" and self.length > 255) and self.type not in ("address", "anyType")


@dataclass(frozen=True)
class ObjectSpec:
    """One sObject type."""

    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: tuple[FieldSpec, ...]
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    bulk_queryable: bool = True
    _index: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> FieldSpec | None:
        """Case-insensitive lookup, as SOQL and the REST API treat field names."""
        return self._index.get(name.lower())

    @property
    def has_is_deleted(self) -> bool:
        return "isdeleted" in self._index


# ---- field helpers (keep the table below readable) --------------------------------------------

def _label(name: str) -> str:
    base = name.removesuffix("__c").removesuffix("Id") if name != "Id" else "Record ID"
    return base.replace("_", " ")


def _f(name: str, type_: str, **kw: object) -> FieldSpec:
    kw.setdefault("label", _label(name))
    if type_ in ("string", "picklist", "email", "phone", "url") and "length" not in kw:
        kw["length"] = 255 if type_ != "picklist" else 255
    if type_ in ("id", "reference") and "length" not in kw:
        kw["length"] = 18
    if type_ == "currency" and "precision" not in kw:
        kw["precision"], kw["scale"] = 18, 2
    if name.endswith("__c"):
        kw.setdefault("custom", True)
    return FieldSpec(name=name, type=type_, **kw)  # type: ignore[arg-type]


def _ro(name: str, type_: str, **kw: object) -> FieldSpec:
    """A system-maintained field: neither createable nor updateable."""
    return _f(name, type_, updateable=False, createable=False, **kw)


def _ref(name: str, *targets: str, rel: str | None = None, **kw: object) -> FieldSpec:
    return _f(name, "reference", reference_to=targets, relationship_name=rel or name.removesuffix("Id"), **kw)


def _audit(deletable: bool = True, created: bool = True, modified: bool = True) -> tuple[FieldSpec, ...]:
    out: list[FieldSpec] = [_ro("Id", "id", nillable=False, label="Record ID")]
    if deletable:
        out.append(_ro("IsDeleted", "boolean", nillable=False, defaulted_on_create=True, label="Deleted"))
    if created:
        out += [
            _ro("CreatedDate", "datetime", nillable=False, defaulted_on_create=True, label="Created Date"),
            _ro("CreatedById", "reference", nillable=False, reference_to=("User",),
                relationship_name="CreatedBy", defaulted_on_create=True, label="Created By ID"),
        ]
    if modified:
        out += [
            _ro("LastModifiedDate", "datetime", nillable=False, defaulted_on_create=True,
                label="Last Modified Date"),
            _ro("LastModifiedById", "reference", nillable=False, reference_to=("User",),
                relationship_name="LastModifiedBy", defaulted_on_create=True, label="Last Modified By ID"),
        ]
    out.append(_ro("SystemModstamp", "datetime", nillable=False, defaulted_on_create=True,
                   label="System Modstamp"))
    return tuple(out)


CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK")


def _currency_iso() -> FieldSpec:
    return _f("CurrencyIsoCode", "picklist", length=3, picklist=CURRENCIES, defaulted_on_create=True,
              label="Currency ISO Code")


# Default sales process: (stage, probability, forecast category, is closed, is won).
STAGES: tuple[tuple[str, float, str, bool, bool], ...] = (
    ("Prospecting", 10.0, "Pipeline", False, False),
    ("Qualification", 10.0, "Pipeline", False, False),
    ("Needs Analysis", 20.0, "Pipeline", False, False),
    ("Value Proposition", 50.0, "Pipeline", False, False),
    ("Id. Decision Makers", 60.0, "Pipeline", False, False),
    ("Perception Analysis", 70.0, "Pipeline", False, False),
    ("Proposal/Price Quote", 75.0, "Pipeline", False, False),
    ("Negotiation/Review", 90.0, "Pipeline", False, False),
    ("Closed Won", 100.0, "Closed", True, True),
    ("Closed Lost", 0.0, "Omitted", True, False),
)
STAGE_INFO = {s[0]: s for s in STAGES}
STAGE_NAMES = tuple(s[0] for s in STAGES)
OPPORTUNITY_TYPES = (
    "New Business",
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
)
# The sandbox org's own picklists (Lead Source is standard, its values are each org's; the reasons are
# the custom fields most orgs add, since Salesforce has no standard loss or win reason).
LEAD_SOURCES = ("Web", "Referral", "Partner", "Outbound", "Event", "Other")
LOSS_REASONS = ("Price", "Competitor", "No decision", "Timing", "Product fit", "Other")
WON_REASONS = ("Product fit", "Price", "Relationship", "Support", "Other")
SURVEY_TOPICS = ("Tools", "Leads", "Training", "Compensation", "Process", "Other")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_SUBTYPES = ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")
FORECAST_CATEGORIES = ("Omitted", "Pipeline", "BestCase", "Forecast", "Closed")
PERIOD_TYPES = ("Year", "Quarter", "Month", "Week")
FIELD_HISTORY_FIELDS = ("created", "Owner", "Amount", "CloseDate", "StageName", "Name", "Account")
FIELD_HISTORY_DATA_TYPES = ("EntityId", "Text", "Currency", "Date", "DynamicEnum")
FISCAL_YEAR_TYPES = ("Standard", "Custom")
QUARTER_LABEL_SCHEMES = ("NumberByYear", "Custom")
PERIOD_LABEL_SCHEMES = ("Standard", "NumberByYear", "NumberByQuarter", "Custom")

_OBJECTS: tuple[ObjectSpec, ...] = (
    ObjectSpec("User", "005", "User", "Users", (
        *_audit(deletable=False),
        _f("Username", "string", length=80, nillable=False),
        _f("LastName", "string", length=80, nillable=False, label="Last Name"),
        _f("FirstName", "string", length=40, label="First Name"),
        _ro("Name", "string", length=121, nillable=False, label="Full Name"),
        _f("Email", "email", length=128, nillable=False),
        _f("Title", "string", length=80),
        _f("IsActive", "boolean", nillable=False, defaulted_on_create=True, label="Active"),
        _ref("UserRoleId", "UserRole", label="Role ID"),
        _ref("ManagerId", "User", label="Manager ID"),
        _ref("ProfileId", "Profile", label="Profile ID"),
        _currency_iso(),
        _f("DefaultCurrencyIsoCode", "picklist", length=3, picklist=CURRENCIES, label="Default Currency"),
        _f("Quota_Attainment__c", "percent", precision=7, scale=2, label="Quota Attainment"),
        _f("Revenue_Won__c", "currency", label="Revenue Won"),
        _f("Win_Rate__c", "percent", precision=5, scale=2, label="Win Rate"),
        _f("Calls_This_Month__c", "double", precision=18, scale=0, label="Calls This Month"),
    ), deletable=False),
    ObjectSpec("UserRole", "00E", "Role", "Roles", (
        *_audit(deletable=False, created=False),
        _f("Name", "string", length=80, nillable=False),
        _ref("ParentRoleId", "UserRole", rel=None, label="Parent Role ID"),
        _f("DeveloperName", "string", length=80),
        _f("RollupDescription", "string", length=80, label="Description"),
        _f("OpportunityAccessForAccountOwner", "picklist", length=40, nillable=False,
           picklist=("None", "Read", "Edit"), label="Opportunity Access for Account Owner"),
    )),
    ObjectSpec("Account", "001", "Account", "Accounts", (
        *_audit(),
        _f("Name", "string", nillable=False, label="Account Name"),
        _f("Type", "picklist", length=255, picklist=("Prospect", "Customer - Direct", "Customer - Channel",
                                                      "Channel Partner / Reseller", "Other"),
           label="Account Type"),
        _f("Industry", "picklist", length=255),
        _f("BillingStreet", "textarea", length=255, label="Billing Street"),
        _f("BillingCity", "string", length=40, label="Billing City"),
        _f("BillingState", "string", length=80, label="Billing State/Province"),
        _f("BillingPostalCode", "string", length=20, label="Billing Zip/Postal Code"),
        _f("BillingCountry", "string", length=80, label="Billing Country"),
        _ro("BillingAddress", "address", label="Billing Address",
            components=("BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry")),
        _ref("OwnerId", "User", nillable=False, defaulted_on_create=True, label="Owner ID"),
        _currency_iso(),
    )),
    ObjectSpec("Opportunity", "006", "Opportunity", "Opportunities", (
        *_audit(),
        _ref("AccountId", "Account", label="Account ID"),
        _f("Name", "string", length=120, nillable=False),
        _f("StageName", "picklist", length=255, nillable=False, picklist=STAGE_NAMES, label="Stage"),
        _f("Amount", "currency"),
        _f("Probability", "percent", precision=3, scale=0, label="Probability (%)"),
        _f("CloseDate", "date", nillable=False, label="Close Date"),
        _f("Type", "picklist", length=255, picklist=OPPORTUNITY_TYPES, label="Opportunity Type"),
        _f("ForecastCategoryName", "picklist", length=255, picklist=FORECAST_CATEGORIES,
           label="Forecast Category"),
        _ro("IsClosed", "boolean", nillable=False, defaulted_on_create=True, label="Closed"),
        _ro("IsWon", "boolean", nillable=False, defaulted_on_create=True, label="Won"),
        _ref("OwnerId", "User", nillable=False, defaulted_on_create=True, label="Owner ID"),
        _f("LeadSource", "picklist", length=255, picklist=LEAD_SOURCES, label="Lead Source"),
        _currency_iso(),
        _f("ARR__c", "currency", label="ARR"),
        _f("Loss_Reason__c", "picklist", length=255, picklist=LOSS_REASONS, label="Loss Reason"),
        _f("Won_Reason__c", "picklist", length=255, picklist=WON_REASONS, label="Won Reason"),
    )),
    ObjectSpec("OpportunityHistory", "008", "Opportunity History", "Opportunity History", (
        _ro("Id", "id", nillable=False, label="Record ID"),
        _ref("OpportunityId", "Opportunity", nillable=False, updateable=False, createable=False,
             label="Opportunity ID"),
        _ro("CreatedById", "reference", nillable=False, reference_to=("User",), relationship_name="CreatedBy",
            label="Created By ID"),
        _ro("CreatedDate", "datetime", nillable=False, label="Created Date"),
        _ro("StageName", "picklist", length=255, nillable=False, picklist=STAGE_NAMES, label="Stage"),
        _ro("Amount", "currency"),
        _ro("ExpectedRevenue", "currency", label="Expected Revenue"),
        _ro("CloseDate", "date", label="Close Date"),
        _ro("Probability", "percent", precision=3, scale=0, label="Probability (%)"),
        _ro("ForecastCategory", "picklist", length=40, picklist=FORECAST_CATEGORIES, label="Forecast Category"),
        _ro("SystemModstamp", "datetime", nillable=False, label="System Modstamp"),
        _ro("IsDeleted", "boolean", nillable=False, label="Deleted"),
        _currency_iso(),
    ), createable=False, updateable=False, deletable=False),
    # Field history (sforce_api_objects_opportunityfieldhistory): insert-only, no SystemModstamp; the key
    # prefix 017 is the one field-history rows share in real orgs. An owner change writes two rows (ids with
    # DataType EntityId, names with DataType Text) — observed in orgs, not in the object reference.
    ObjectSpec("OpportunityFieldHistory", "017", "Opportunity Field History", "Opportunity Field History", (
        _ro("Id", "id", nillable=False, label="Record ID"),
        _ro("IsDeleted", "boolean", nillable=False, defaulted_on_create=True, label="Deleted"),
        _ro("OpportunityId", "reference", nillable=False, reference_to=("Opportunity",),
            relationship_name="Opportunity", label="Opportunity ID"),
        _ro("CreatedById", "reference", nillable=False, reference_to=("User",), relationship_name="CreatedBy",
            label="Created By ID"),
        _ro("CreatedDate", "datetime", nillable=False, label="Created Date"),
        _ro("Field", "picklist", length=255, nillable=False, picklist=FIELD_HISTORY_FIELDS, label="Changed Field"),
        _ro("DataType", "picklist", length=40, picklist=FIELD_HISTORY_DATA_TYPES, label="Data Type"),
        _ro("OldValue", "anyType", label="Old Value"),
        _ro("NewValue", "anyType", label="New Value"),
    ), createable=False, updateable=False, deletable=False),
    # Splits (sforce_api_objects_opportunitysplittype / _opportunitysplit). Key prefixes 14A/149 are
    # guesses (the reference does not list them). Types are setup data: read-only through the API.
    ObjectSpec("OpportunitySplitType", "14A", "Opportunity Split Type", "Opportunity Split Types", (
        *_audit(),
        _ro("DeveloperName", "string", length=80, nillable=False, label="Split Type Name"),
        _ro("MasterLabel", "string", length=80, nillable=False, label="Master Label"),
        _ro("Language", "picklist", length=40, picklist=("en_US",)),
        _ro("Description", "string", length=255),
        _ro("IsActive", "boolean", nillable=False, defaulted_on_create=True, label="Active"),
        _ro("IsTotalValidated", "boolean", nillable=False, defaulted_on_create=True,
            label="Validated to 100%"),
        _ro("SplitEntity", "picklist", length=40, picklist=("Opportunity",), label="Split Entity"),
        _ro("SplitField", "picklist", length=40, picklist=("Amount",), label="Split Field"),
        _ro("SplitDataStatus", "picklist", length=40, picklist=("Completed",), label="Split Data Status"),
    ), createable=False, updateable=False, deletable=False),
    ObjectSpec("OpportunitySplit", "149", "Opportunity Split", "Opportunity Splits", (
        *_audit(),
        _ref("OpportunityId", "Opportunity", nillable=False, updateable=False, label="Opportunity ID"),
        _ro("Split", "string", length=30, defaulted_on_create=True),
        _ref("SplitOwnerId", "User", rel="SplitOwner", nillable=False, label="User ID"),
        _f("SplitPercentage", "percent", precision=18, scale=8, label="Split (%)"),
        _ref("SplitTypeId", "OpportunitySplitType", label="Opportunity Split Type ID"),
        _ro("SplitAmount", "currency", label="Split Amount"),
        _f("SplitNote", "string", length=255, label="Split Note"),
        _currency_iso(),
    )),
    ObjectSpec("Lead", "00Q", "Lead", "Leads", (
        *_audit(),
        _f("LastName", "string", length=80, nillable=False, label="Last Name"),
        _f("FirstName", "string", length=40, label="First Name"),
        _ro("Name", "string", length=121, nillable=False, label="Full Name"),
        _f("Company", "string", nillable=False),
        _f("Email", "email", length=80),
        _f("Status", "picklist", length=255, nillable=False, picklist=LEAD_STATUSES, defaulted_on_create=True),
        _f("LeadSource", "picklist", length=255, picklist=LEAD_SOURCES, label="Lead Source"),
        _ro("IsConverted", "boolean", nillable=False, defaulted_on_create=True, label="Converted"),
        _ro("ConvertedDate", "date", label="Converted Date"),
        _ro("ConvertedAccountId", "reference", reference_to=("Account",), relationship_name="ConvertedAccount",
            label="Converted Account ID"),
        _ref("OwnerId", "Group", "User", nillable=False, defaulted_on_create=True, label="Owner ID"),
        _currency_iso(),
    )),
    ObjectSpec("Task", "00T", "Task", "Tasks", (
        *_audit(),
        _ref("WhoId", "Contact", "Lead", rel="Who", label="Name ID"),
        _ref("WhatId", "Account", "Opportunity", rel="What", label="Related To ID"),
        _f("Subject", "string", length=255),
        _f("ActivityDate", "date", label="Due Date Only"),
        _f("Status", "picklist", length=255, nillable=False, picklist=TASK_STATUSES, defaulted_on_create=True),
        _f("Priority", "picklist", length=40, nillable=False, picklist=("High", "Normal", "Low"),
           defaulted_on_create=True),
        _ro("IsClosed", "boolean", nillable=False, defaulted_on_create=True, label="Closed"),
        _ref("OwnerId", "Group", "User", nillable=False, defaulted_on_create=True, label="Assigned To ID"),
        _ro("AccountId", "reference", reference_to=("Account",), relationship_name="Account", label="Account ID"),
        _f("TaskSubtype", "picklist", length=40, picklist=TASK_SUBTYPES, updateable=False, label="Task Subtype"),
        _f("CompletedDateTime", "datetime", updateable=False, createable=False, label="Completed Date/Time"),
    )),
    ObjectSpec("Event", "00U", "Event", "Events", (
        *_audit(),
        _ref("WhoId", "Contact", "Lead", rel="Who", label="Name ID"),
        _ref("WhatId", "Account", "Opportunity", rel="What", label="Related To ID"),
        _f("Subject", "string", length=255),
        _f("ActivityDateTime", "datetime", label="Due Date Time"),
        _f("ActivityDate", "date", label="Due Date Only"),
        _f("DurationInMinutes", "int", precision=8, label="Duration"),
        _ro("EndDateTime", "datetime", label="End Date Time"),
        _ref("OwnerId", "Group", "User", nillable=False, defaulted_on_create=True, label="Assigned To ID"),
        _ro("AccountId", "reference", reference_to=("Account",), relationship_name="Account", label="Account ID"),
    )),
    ObjectSpec("ForecastingQuota", "0J9", "Forecasting Quota", "Forecasting Quotas", (
        *_audit(deletable=False),
        _ref("QuotaOwnerId", "User", nillable=False, label="Quota Owner ID"),
        _f("QuotaAmount", "currency", label="Amount Quota"),
        _f("QuotaQuantity", "double", precision=18, scale=2, label="Quantity Quota"),
        _f("StartDate", "date", nillable=False, label="Start Date"),
        _f("IsAmount", "boolean", nillable=False, defaulted_on_create=True, label="Is Amount"),
        _f("IsQuantity", "boolean", nillable=False, defaulted_on_create=True, label="Is Quantity"),
        _ref("ForecastingTypeId", "ForecastingType", label="Forecasting Type ID", storage_override="str"),
        _currency_iso(),
    )),
    ObjectSpec("CurrencyType", "02B", "Currency", "Currencies", (
        *_audit(deletable=False),
        _f("IsoCode", "picklist", length=3, nillable=False, picklist=CURRENCIES, updateable=False,
           label="Currency ISO Code"),
        _f("ConversionRate", "double", precision=18, scale=6, nillable=False, label="Conversion Rate"),
        _f("DecimalPlaces", "int", precision=2, nillable=False, label="Decimal Places"),
        _f("IsActive", "boolean", nillable=False, label="Active"),
        _f("IsCorporate", "boolean", nillable=False, updateable=False, label="Corporate Currency"),
    ), deletable=False),
    ObjectSpec("NPS_Response__c", "a0X", "NPS Response", "NPS Responses", (
        *_audit(),
        _ref("OwnerId", "Group", "User", nillable=False, defaulted_on_create=True, label="Owner ID"),
        _f("Name", "string", length=80, label="NPS Response Name"),
        _f("Score__c", "double", precision=2, scale=0, label="Score"),
        _f("Kind__c", "picklist", length=255, picklist=("nps", "csat", "ces"), label="Kind"),
        _f("Comment__c", "textarea", length=32768, label="Comment"),
        _ref("Account__c", "Account", rel="Account__r", label="Account"),
        _ref("Rep__c", "User", rel="Rep__r", label="Rep"),
        _f("SubmittedAt__c", "datetime", label="Submitted At"),
    ), custom=True),
    # The sales team's pulse survey (the source's `rep_survey_object`): one answer per record, 0-10.
    ObjectSpec("Rep_Survey__c", "a0Z", "Rep Survey", "Rep Surveys", (
        *_audit(),
        _ref("OwnerId", "Group", "User", nillable=False, defaulted_on_create=True, label="Owner ID"),
        _f("Name", "string", length=80, label="Rep Survey Name"),
        _ref("Rep__c", "User", rel="Rep__r", label="Rep"),
        _f("Score__c", "double", precision=2, scale=0, label="Score"),
        _f("Topic__c", "picklist", length=255, picklist=SURVEY_TOPICS, label="Topic"),
        _f("Comment__c", "textarea", length=32768, label="Comment"),
        _f("SubmittedAt__c", "datetime", label="Submitted At"),
    ), custom=True),
    ObjectSpec("Rep_KPI__c", "a0Y", "Rep KPI", "Rep KPIs", (
        *_audit(),
        _ref("OwnerId", "Group", "User", nillable=False, defaulted_on_create=True, label="Owner ID"),
        _f("Name", "string", length=80, label="Rep KPI Name"),
        _f("Rep_Period_Key__c", "string", length=80, external_id=True, unique=True, label="Rep Period Key"),
        _ref("Rep__c", "User", rel="Rep__r", label="Rep"),
        _f("Period__c", "string", length=20, label="Period"),
        _f("Quota_Attainment__c", "percent", precision=7, scale=2, label="Quota Attainment"),
        _f("Revenue_Won__c", "currency", label="Revenue Won"),
        _f("Win_Rate__c", "percent", precision=5, scale=2, label="Win Rate"),
        _f("Calls__c", "double", precision=18, scale=0, label="Calls"),
        _currency_iso(),
    ), custom=True),
    # Setup objects a write-back install touches: profiles, permission sets and their grants.
    ObjectSpec("Profile", "00e", "Profile", "Profiles", (
        *_audit(deletable=False),
        _f("Name", "string", length=255, nillable=False),
    ), createable=False, updateable=False, deletable=False),
    ObjectSpec("PermissionSet", "0PS", "Permission Set", "Permission Sets", (
        *_audit(deletable=False),
        _f("Name", "string", length=80, nillable=False, label="API Name"),
        _f("Label", "string", length=80, nillable=False),
        _f("Description", "string", length=255),
    ), deletable=False),
    ObjectSpec("FieldPermissions", "01k", "Field Permissions", "Field Permissions", (
        *_audit(deletable=False),
        _ref("ParentId", "PermissionSet", rel="Parent", nillable=False, label="Parent ID"),
        _f("SobjectType", "string", length=255, nillable=False, label="Sobject Type Name"),
        _f("Field", "string", length=255, nillable=False, label="Field Name"),
        _f("PermissionsRead", "boolean", nillable=False, defaulted_on_create=True, label="Read Access"),
        _f("PermissionsEdit", "boolean", nillable=False, defaulted_on_create=True, label="Edit Access"),
    ), deletable=False),
    ObjectSpec("ObjectPermissions", "110", "Object Permissions", "Object Permissions", (
        *_audit(deletable=False),
        _ref("ParentId", "PermissionSet", rel="Parent", nillable=False, label="Parent ID"),
        _f("SobjectType", "string", length=255, nillable=False, label="Sobject Type Name"),
        _f("PermissionsRead", "boolean", nillable=False, defaulted_on_create=True, label="Read"),
        _f("PermissionsCreate", "boolean", nillable=False, defaulted_on_create=True, label="Create"),
        _f("PermissionsEdit", "boolean", nillable=False, defaulted_on_create=True, label="Edit"),
        _f("PermissionsDelete", "boolean", nillable=False, defaulted_on_create=True, label="Delete"),
    ), deletable=False),
    ObjectSpec("PermissionSetAssignment", "0Pa", "Permission Set Assignment", "Permission Set Assignments", (
        *_audit(deletable=False),
        _ref("AssigneeId", "User", rel="Assignee", nillable=False, label="Assignee ID"),
        _ref("PermissionSetId", "PermissionSet", nillable=False, label="Permission Set ID"),
    ), updateable=False),
    ObjectSpec("TaskStatus", "01J", "Task Status Value", "Task Status Values", (
        *_audit(deletable=False),
        _ro("MasterLabel", "string", length=255, label="Master Label"),
        _ro("ApiName", "string", length=255, label="Api Name"),
        _ro("SortOrder", "int", precision=9, label="Sort Order"),
        _ro("IsDefault", "boolean", nillable=False, label="Is Default"),
        _ro("IsClosed", "boolean", nillable=False, label="Is Closed"),
    ), createable=False, updateable=False, deletable=False, bulk_queryable=False),
    # The fiscal calendar (setup data): read-only through the API, rows come from fiscal.py.
    ObjectSpec("FiscalYearSettings", "022", "Fiscal Year Settings", "Fiscal Year Settings", (
        *_audit(deletable=False, created=False, modified=False),
        _ro("Name", "string", length=80, nillable=False),
        _ro("StartDate", "date", label="Start Date"),
        _ro("EndDate", "date", label="End Date"),
        _ro("PeriodId", "reference", reference_to=("Period",), relationship_name="Period", label="Period ID"),
        _ro("IsStandardYear", "boolean", nillable=False, defaulted_on_create=True, label="Is Standard Year"),
        _ro("YearType", "picklist", length=40, picklist=FISCAL_YEAR_TYPES, label="Year Type"),
        _ro("QuarterLabelScheme", "picklist", length=40, picklist=QUARTER_LABEL_SCHEMES,
            label="Quarter Name Scheme"),
        _ro("QuarterPrefix", "picklist", length=255, label="Quarter Prefix"),
        _ro("PeriodLabelScheme", "picklist", length=40, picklist=PERIOD_LABEL_SCHEMES, label="Period Name Scheme"),
        _ro("PeriodPrefix", "picklist", length=255, label="Period Prefix"),
        _ro("WeekLabelScheme", "picklist", length=40, label="Week Name Scheme"),
        _ro("WeekStartDay", "int", precision=9, label="Week Start Day"),
        _ro("Description", "string", length=255),
    ), createable=False, updateable=False, deletable=False),
    ObjectSpec("Period", "026", "Period", "Periods", (
        *_audit(deletable=False, created=False, modified=False),
        _ro("FiscalYearSettingsId", "reference", reference_to=("FiscalYearSettings",),
            relationship_name="FiscalYearSettings", label="Fiscal Year Settings ID"),
        _ro("Type", "picklist", length=40, picklist=PERIOD_TYPES),
        _ro("StartDate", "date", nillable=False, label="Start Date"),
        _ro("EndDate", "date", nillable=False, label="End Date"),
        _ro("IsForecastPeriod", "boolean", nillable=False, defaulted_on_create=True, label="Is Forecast Period"),
        _ro("QuarterLabel", "picklist", length=255, label="Quarter Name"),
        _ro("PeriodLabel", "picklist", length=255, label="Period Name"),
        _ro("Number", "int", precision=9),
        _ro("FullyQualifiedLabel", "string", length=80, label="Fully Qualified Label"),
    ), createable=False, updateable=False, deletable=False),
)

OBJECTS: dict[str, ObjectSpec] = {o.name: o for o in _OBJECTS}
BY_PREFIX: dict[str, ObjectSpec] = {o.key_prefix: o for o in _OBJECTS}


# The write-back fields an org has before anyone runs `writeback setup` (the default sandbox); an org
# started with `kpi_fields=False` lacks them, as a new customer's org does.
PREINSTALLED_KPI_FIELDS: dict[str, tuple[str, ...]] = {
    "User": ("Quota_Attainment__c", "Revenue_Won__c", "Win_Rate__c", "Calls_This_Month__c"),
}
PREINSTALLED_KPI_OBJECTS: tuple[str, ...] = ("Rep_KPI__c",)
_CUSTOM_PREFIX_START = 62 * 10  # "aA0", "aA1", ...: far from the static custom objects' a0X / a0Y
_CUSTOM_PREFIXES: dict[str, str] = {}


def custom_key_prefix(name: str) -> str:
    """The key prefix of a custom object created at run time: one per name in the process, so every
    org (and every Id decoded anywhere) agrees on it."""
    if name not in _CUSTOM_PREFIXES:
        from .ids import BASE62

        n = _CUSTOM_PREFIX_START + len(_CUSTOM_PREFIXES)
        _CUSTOM_PREFIXES[name] = "a" + BASE62[n // 62 % 62] + BASE62[n % 62]
    return _CUSTOM_PREFIXES[name]


def with_field(spec: ObjectSpec, new: FieldSpec) -> ObjectSpec:
    """The object with one more field (an ObjectSpec is immutable: the org swaps in the new one)."""
    return replace(spec, fields=(*spec.fields, new))


def without_fields(spec: ObjectSpec, names: tuple[str, ...]) -> ObjectSpec:
    return replace(spec, fields=tuple(f for f in spec.fields if f.name not in names))


def custom_object(name: str, label: str, plural: str, name_label: str) -> ObjectSpec:
    """A new custom object as the Metadata API creates it: audit fields, owner, Name, currency."""
    return ObjectSpec(name, custom_key_prefix(name), label, plural, (
        *_audit(),
        _ref("OwnerId", "Group", "User", nillable=False, defaulted_on_create=True, label="Owner ID"),
        _f("Name", "string", length=80, label=name_label),
        _currency_iso(),
    ), custom=True)


def custom_field(name: str, type_: str, label: str, **kw: object) -> FieldSpec:
    """A custom field as created through the Tooling API (see tooling.py for the Metadata types)."""
    return _f(name, type_, label=label, custom=True, **kw)
