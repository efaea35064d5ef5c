"""The report's charts as Vega-Lite specs built with altair (rendered in the page by the inlined vega-embed).

Each builder takes plain rows and returns a spec dict; nothing here reads the store.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import altair as alt

from spm_sync.report.data import STAGES, Entity, LossReason, Month, ReportData

AHEAD, BEHIND, MISSED, GREY = "#1a9850", "#4575b4", "#d73027", "#9e9e9e"
BREAKDOWN_TEAMS = 12  # teams in the customer charts: the largest by revenue won
FONT = "Inter, 'Segoe UI', Helvetica, Arial, sans-serif"
CONFIG: dict[str, Any] = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 12, "titleFontSize": 12, "titleFontWeight": 500, "gridColor": "#eceff3",
             "domainColor": "#c7ccd4", "labelColor": "#3c4350", "titleColor": "#3c4350"},
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "top"},
    "title": {"fontSize": 14, "anchor": "start", "color": "#1f2430"},
}


def _spec(chart: alt.TopLevelMixin, **datasets: list[dict[str, Any]]) -> dict[str, Any]:
    """The Vega-Lite dict; rows go in as named datasets after altair is done (it would validate each row)."""
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["config"] = {**CONFIG, **spec.get("config", {})}
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


def attainment_bars(entities: list[Entity], title: str, definition: str) -> dict[str, Any]:
    """Horizontal attainment bars, best first, against a 100 % rule; hover shows revenue, quota, definition."""
    ranked = sorted((e for e in entities if e.value("quota_attainment") is not None),
                    key=lambda e: -(e.value("quota_attainment") or 0.0))
    rows = [
        {"name": e.name, "attainment": e.value("quota_attainment"), "revenue": e.value("revenue_won") or 0.0,
         "quota": e.value("quota") or 0.0, "definition": definition,
         "status": "at or above quota" if (e.value("quota_attainment") or 0) >= 1 else "below quota"}
        for e in ranked
    ]
    base = alt.Chart(alt.Data(name="rows"))
    order = [e.name for e in ranked]  # explicit: layered charts drop a sort by field
    bars = base.mark_bar(cornerRadiusEnd=3, height={"band": 0.7}).encode(
        x=alt.X("attainment:Q", axis=alt.Axis(format="%", title="Quota attainment")),
        y=alt.Y("name:N", sort=order, axis=alt.Axis(title=None, labelLimit=220)),
        color=alt.Color("status:N", scale=alt.Scale(domain=["at or above quota", "below quota"],
                                                     range=[AHEAD, BEHIND]), legend=alt.Legend(title=None)),
        tooltip=[alt.Tooltip("name:N", title="Name"), alt.Tooltip("attainment:Q", title="Attainment", format=".1%"),
                 alt.Tooltip("revenue:Q", title="Revenue won", format=",.0f"),
                 alt.Tooltip("quota:Q", title="Quota", format=",.0f"), alt.Tooltip("definition:N", title="Attainment")],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, color="#3c4350").encode(
        x="attainment:Q", y=alt.Y("name:N", sort=order), text=alt.Text("attainment:Q", format=".0%"))
    goal = alt.Chart(alt.Data(values=[{"goal": 1.0}])).mark_rule(color="#1f2430", strokeDash=[4, 3]).encode(x="goal:Q")
    chart = alt.layer(bars, labels, goal).properties(title=title, width="container", height=max(60, 24 * len(rows)))
    return _spec(chart, rows=rows)


def cumulative_rows(months: list[Month], entity_type: str, today_month: str) -> list[dict[str, Any]]:
    """Per entity and month: cumulative revenue won and pro-rated quota, as shares of the fiscal year's quota."""
    by_name: dict[str, list[Month]] = {}
    for month in months:
        if month.entity_type == entity_type:
            by_name.setdefault(month.name, []).append(month)
    out: list[dict[str, Any]] = []
    for name, series in by_name.items():
        series.sort(key=lambda m: m.month)
        year_quota = sum(m.quota for m in series)
        if year_quota <= 0:
            continue
        won = list(accumulate(m.revenue_won for m in series))
        planned = list(accumulate(m.quota for m in series))
        for month, cum_won, cum_quota in zip(series, won, planned, strict=True):
            out.append({"name": name, "month": month.month + "-01",
                        "attainment": round(cum_won / year_quota, 4) if month.month <= today_month else None,
                        "plan": round(cum_quota / year_quota, 4)})
    return out


def attainment_over_time(rows: list[dict[str, Any]], title: str, chooser: str, first: str) -> dict[str, Any]:
    """Cumulative attainment of the fiscal year's quota by month against the pro-rated quota line, for the
    entity picked in a drop-down (`first` initially)."""
    names = sorted({r["name"] for r in rows})
    pick = alt.param(name=f"pick_{chooser}", value=first,
                     bind=alt.binding_select(options=names, name=f"{chooser.capitalize()}: "))
    base = alt.Chart(alt.Data(name="rows")).transform_filter(alt.datum.name == pick)
    x = alt.X("month:T", timeUnit="yearmonth", axis=alt.Axis(format="%b %Y", title=None, labelAngle=0))
    tooltip = [alt.Tooltip("name:N", title="Name"), alt.Tooltip("month:T", timeUnit="yearmonth", title="Month"),
               alt.Tooltip("attainment:Q", title="Won so far (of FY quota)", format=".1%"),
               alt.Tooltip("plan:Q", title="Pro-rated quota so far", format=".1%")]
    plan = base.mark_line(strokeDash=[6, 4], color=GREY).encode(x=x, y="plan:Q", tooltip=tooltip)
    won = base.mark_line(point=True, color=BEHIND, strokeWidth=3).encode(
        x=x, y=alt.Y("attainment:Q", axis=alt.Axis(format="%", title="Share of fiscal-year quota")), tooltip=tooltip)
    chart = alt.layer(plan, won).add_params(pick).properties(title=title, width="container", height=260)
    return _spec(chart, rows=rows)


def funnel(scope: Entity, definitions: dict[str, str]) -> dict[str, Any]:
    """Stage conversion (bars) and mean days per stage (labels), in stage order."""
    rows = [
        {"stage": stage.replace("_", " ").capitalize(), "order": i,
         "conversion": scope.value(f"stage_conversion_{stage}"), "days": scope.value(f"stage_days_{stage}"),
         "definition": definitions.get(f"stage_conversion_{stage}", "")}
        for i, stage in enumerate(STAGES)
    ]
    base = alt.Chart(alt.Data(name="rows")).encode(
        y=alt.Y("stage:N", sort=alt.EncodingSortField(field="order"), axis=alt.Axis(title=None)))
    tooltip = [alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("conversion:Q", title="Converted", format=".1%"),
               alt.Tooltip("days:Q", title="Mean days in stage", format=".1f"),
               alt.Tooltip("definition:N", title="Conversion")]
    conversion = base.mark_bar(color=BEHIND, cornerRadiusEnd=3).encode(
        x=alt.X("conversion:Q", axis=alt.Axis(format="%", title="Went on to a later stage"),
                scale=alt.Scale(domain=[0, 1])), tooltip=tooltip)
    pct = base.mark_text(align="left", dx=4, fontSize=11).encode(x="conversion:Q",
                                                                  text=alt.Text("conversion:Q", format=".0%"))
    days = base.mark_bar(color="#91bfdb", cornerRadiusEnd=3).encode(
        x=alt.X("days:Q", axis=alt.Axis(title="Mean days in stage")), tooltip=tooltip)
    days_text = base.mark_text(align="left", dx=4, fontSize=11).encode(
        x="days:Q", text=alt.Text("days:Q", format=".0f"))
    chart = alt.hconcat(
        alt.layer(conversion, pct).properties(title="Stage conversion", width=300, height=170),
        alt.layer(days, days_text).properties(title="Days per stage", width=220, height=170),
    )
    return _spec(chart, rows=rows)


def new_vs_existing(entities: list[Entity], definition: str) -> dict[str, Any]:
    """Revenue won from new customers vs existing ones, stacked per entity (from new_customer_revenue_share)."""
    rows = []
    for e in entities:
        new, with_account = e.part("new_customer_revenue_share", 1), e.part("new_customer_revenue_share", 2)
        if new is None or not with_account:
            continue
        rows += [{"name": e.name, "kind": kind, "revenue": revenue, "definition": definition}
                 for kind, revenue in (("New customers", new), ("Existing customers", with_account - new))]
    chart = alt.Chart(alt.Data(name="rows")).mark_bar(cornerRadiusEnd=2).encode(
        x=alt.X("sum(revenue):Q", stack="normalize", axis=alt.Axis(format="%", title="Share of revenue won")),
        y=alt.Y("name:N", axis=alt.Axis(title=None, labelLimit=220)),
        color=alt.Color("kind:N", scale=alt.Scale(domain=["New customers", "Existing customers"],
                                                   range=[AHEAD, "#91bfdb"]), legend=alt.Legend(title=None)),
        tooltip=[alt.Tooltip("name:N", title="Name"), alt.Tooltip("kind:N", title="From"),
                 alt.Tooltip("sum(revenue):Q", title="Revenue won", format=",.0f"),
                 alt.Tooltip("definition:N", title="New customer")],
    ).properties(title="New vs existing customer revenue", width="container",
                 height=max(60, 24 * len({r["name"] for r in rows})))
    return _spec(chart, rows=rows)


def satisfaction(entities: list[Entity], definitions: dict[str, str]) -> dict[str, Any]:
    """NPS (-100..100) and CSAT (0..100) per entity, side by side."""
    rows = [{"name": e.name, "metric": label, "score": e.value(metric), "definition": definitions.get(metric, "")}
            for e in entities for metric, label in (("nps", "NPS"), ("csat", "CSAT")) if e.value(metric) is not None]
    chart = alt.Chart(alt.Data(name="rows")).mark_bar(cornerRadiusEnd=2).encode(
        x=alt.X("score:Q", scale=alt.Scale(domain=[-100, 100]), axis=alt.Axis(title=None)),
        y=alt.Y("name:N", axis=alt.Axis(title=None, labelLimit=200)),
        color=alt.condition(alt.datum.score >= 0, alt.value(AHEAD), alt.value(MISSED)),
        column=alt.Column("metric:N", title=None, header=alt.Header(labelFontSize=13, labelFontWeight="bold")),
        tooltip=[alt.Tooltip("name:N", title="Name"), alt.Tooltip("metric:N", title="Score"),
                 alt.Tooltip("score:Q", format=".1f", title="Value"), alt.Tooltip("definition:N", title="Definition")],
    ).properties(width=170, height=max(60, 22 * len({r["name"] for r in rows})))
    return _spec(chart, rows=rows)


NO_REASON = "(no reason given)"


def loss_reasons(slices: list[LossReason], definitions: dict[str, str]) -> dict[str, Any]:
    """Revenue lost per loss reason, most first; hover adds the deals lost and the definitions."""
    order = [s.reason or NO_REASON for s in slices]
    definition = definitions.get("revenue_lost", "")
    rows = [{"reason": reason, "revenue": s.revenue, "deals": s.deals, "definition": definition}
            for reason, s in zip(order, slices, strict=True)]
    base = alt.Chart(alt.Data(name="rows"))
    bars = base.mark_bar(cornerRadiusEnd=3, color=MISSED, height={"band": 0.7}).encode(
        x=alt.X("revenue:Q", axis=alt.Axis(format=",.0f", title="Revenue lost")),
        y=alt.Y("reason:N", sort=order, axis=alt.Axis(title=None, labelLimit=220)),
        tooltip=[alt.Tooltip("reason:N", title="Loss reason"),
                 alt.Tooltip("revenue:Q", title="Revenue lost", format=",.0f"),
                 alt.Tooltip("deals:Q", title="Deals lost", format=",.1f"),
                 alt.Tooltip("definition:N", title="Revenue lost")],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, color="#3c4350").encode(
        x="revenue:Q", y=alt.Y("reason:N", sort=order), text=alt.Text("deals:Q", format=",.0f"))
    chart = alt.layer(bars, labels).properties(
        title="Why deals were lost (label: deals lost)", width="container", height=max(60, 26 * len(rows)))
    return _spec(chart, rows=rows)


def all_charts(data: ReportData, top: int = 25) -> dict[str, dict[str, Any]]:
    """Chart id -> spec, for the page's placeholders."""
    docs = data.definitions
    today_month = data.today.strftime("%Y-%m")
    biggest = sorted(data.teams, key=lambda t: -(t.value("revenue_won") or 0.0))[:BREAKDOWN_TEAMS]
    group = [data.scope, *sorted(biggest, key=lambda t: t.name)]
    team_rows = cumulative_rows(data.months, "team", today_month)
    if data.scope.type == "company":
        team_rows = cumulative_rows(data.months, "company", today_month) + team_rows
    rep_rows = cumulative_rows(data.months, "rep", today_month)
    some = len(data.teams) > top
    charts = {
        "team_attainment": attainment_bars(data.teams[:top] or [data.scope],
                                           f"Top {top} of {len(data.teams)} teams" if some else "Teams",
                                           docs.get("quota_attainment", "")),
        "rep_attainment": attainment_bars(data.reps[:top], f"Top {min(top, len(data.reps))} of {len(data.reps)} reps",
                                          docs.get("quota_attainment", "")),
        "funnel": funnel(data.scope, docs),
        "new_vs_existing": new_vs_existing(group, docs.get("new_customer_revenue_share", "")),
        "satisfaction": satisfaction(group, docs),
    }
    if data.loss_reasons:
        charts["loss_reasons"] = loss_reasons(data.loss_reasons, docs)
    if team_rows:
        charts["team_over_time"] = attainment_over_time(team_rows, "Attainment over the fiscal year", "team",
                                                        data.scope.name)
    if rep_rows:
        first = data.reps[0].name if data.reps else rep_rows[0]["name"]
        charts["rep_over_time"] = attainment_over_time(rep_rows, "A rep over the fiscal year", "rep", first)
    return charts
