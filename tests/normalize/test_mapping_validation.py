"""Mapping files are validated as a whole: every problem with file, key path and line."""

from __future__ import annotations

import pytest

from spm_sync.errors import MappingError
from spm_sync.normalize import load_mapping, parse_mapping

BAD = """\
version: 1
stages:
  Won: closed_wonn
tables:
  opportunities:
    from: opportunity
    fields:
      crm_id: id
      stage: stage_name
      amount: "amount +"
      deal_type: {expr: type, map: {X: newish}}
      colour: red
    wherever: x
  widgets:
    from: w
    fields: {crm_id: id}
  activities:
    - from: task
      fields: {crm_id: id, kind: "'phone'", occurred_at: activity_date}
      joins:
        - {table: x, as: y}
"""


def test_every_problem_is_reported_with_its_line_and_key():
    with pytest.raises(MappingError) as caught:
        parse_mapping(BAD, file="bad.yaml")
    got = [(p.line, p.key, p.message.split(" (")[0]) for p in caught.value.problems]
    assert got == [
        (3, "stages.Won", "unknown stage category 'closed_wonn'"),
        (10, "tables.opportunities.fields.amount", "not a SQL expression"),
        (11, "tables.opportunities.fields.deal_type.map.X", "'newish' is not one of new, renewal, expansion"),
        (12, "tables.opportunities.fields.colour", "unknown field for opportunities"),
        (13, "tables.opportunities.wherever", "unknown key"),
        (14, "tables.widgets", "unknown table"),
        (19, "tables.activities[0].fields.kind", "'phone' is not one of call, email, meeting, task"),
        (21, "tables.activities[0].joins[0].on", "Field required"),
    ]
    text = str(caught.value)
    assert text.startswith("bad.yaml: 8 problems:\n  bad.yaml: line 3: stages.Won: unknown stage category")
    assert caught.value.exit_code == 2


def test_a_single_problem_reads_as_one_line():
    text = "tables:\n  leads:\n    from: lead\n    fields: {crm_id: id}\n"
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, file="m.yaml")
    assert str(caught.value) == "m.yaml: line 4: tables.leads.fields: missing required field 'created_at'"


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(MappingError, match=r"^m.yaml: line 2: not valid YAML"):
        parse_mapping("tables:\n  a: b: c\n", file="m.yaml")


def test_on_is_a_key_not_a_boolean():
    text = (
        "tables:\n  accounts:\n    from: companies\n"
        "    joins: [{table: associations, as: a, on: \"a.from_id = src.id\"}]\n    fields: {crm_id: id}\n"
    )
    mapping = parse_mapping(text, file="m.yaml")
    assert mapping.parts("accounts")[0].joins[0].on == "a.from_id = src.id"


@pytest.mark.parametrize("source_type", ["salesforce", "hubspot", "files"])
def test_shipped_mappings_are_valid(source_type):
    mapping = load_mapping(source_type)
    assert mapping.parts("opportunities")


def test_every_default_stage_is_mapped():
    assert set(load_mapping("salesforce").stages) == {
        "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
        "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
    }
    hubspot = load_mapping("hubspot").stages
    assert hubspot["contractsent"] == "proposal"
    assert set(hubspot) == {
        "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent",
        "closedwon", "closedlost",
    }
    assert load_mapping("salesforce").stages["Proposal/Price Quote"] == "proposal"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("amount; DROP TABLE spm.reps", "`;` is not allowed: one expression only, no statements"),
        ("DROP TABLE spm.reps", "a statement or query is not allowed here, only an expression over columns"),
        ("(SELECT max(amount) FROM opportunity)",
         "a statement or query is not allowed here, only an expression over columns"),
        ("read_parquet('x.parquet')", "function(s) not allowed in an expression: read_parquet"),
    ],
)
def test_a_mapping_expression_is_one_scalar_expression(amount: str, message: str) -> None:
    text = f'tables:\n  leads:\n    from: lead\n    fields:\n      crm_id: id\n      created_at: "{amount}"\n'
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, file="m.yaml")
    assert str(caught.value) == f"m.yaml: line 6: tables.leads.fields.created_at: {message}"
