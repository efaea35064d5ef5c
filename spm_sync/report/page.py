"""The report page: one self-contained HTML file (vega-embed inlined, tables by great-tables, no network).

Why one file: it is mailed, attached and opened offline; nothing it needs may live on a CDN.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Callable
from datetime import date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pyarrow as pa
from great_tables import GT, loc, style
from great_tables import html as gt_html

from spm_sync.report.charts import NO_REASON, all_charts
from spm_sync.report.data import Entity, ReportData

# leaderboard column -> (metric, header)
COLUMNS = (
    ("quota_attainment", "Attainment"), ("revenue_won", "Revenue won"), ("quota", "Quota"),
    ("win_rate", "Win rate"), ("pipeline_coverage", "Pipeline coverage"), ("calls_vs_target", "Calls vs target"),
    ("meetings_vs_target", "Meetings vs target"), ("emails_vs_target", "Emails vs target"),
)
TILES = (
    ("quota_attainment", "Quota attainment"), ("revenue_won", "Revenue won"), ("quota", "Quota"),
    ("win_rate", "Win rate"), ("pipeline_coverage", "Pipeline coverage"), ("open_pipeline", "Open pipeline"),
    ("nps", "NPS"), ("csat", "CSAT"),
    # practices: feedback from the team, pipeline hygiene at the period end, activity per win
    ("enps", "eNPS"), ("rep_feedback_count", "Rep survey answers"), ("activities_per_win", "Activities per win"),
    ("avg_days_to_first_activity", "Days to first lead activity"),
    ("pipeline_stale_share", "Stale pipeline"), ("pipeline_past_due_share", "Past-due pipeline"),
    ("pipeline_missing_amount_share", "Pipeline without amount"), ("stage_skip_share", "Wins that skipped a stage"),
)
LISTED = 60  # a leaderboard longer than this shows its top and bottom halves (`--team` lists a team in full)
PERCENT = {
    "quota_attainment", "win_rate", "calls_vs_target", "meetings_vs_target", "emails_vs_target",
    "pipeline_stale_share", "pipeline_past_due_share", "pipeline_missing_amount_share", "stage_skip_share",
}
MONEY = {"revenue_won", "quota", "open_pipeline", "revenue_lost"}
COUNTS = {"rep_feedback_count", "deals_lost"}


def format_value(metric: str, value: float | None, currency: str) -> str:
    """How the page writes a number (tests read the page back with the same rules)."""
    if value is None:
        return "–"
    if metric in PERCENT:
        return f"{value * 100:,.1f}%"
    if metric in MONEY:
        return f"{currency_symbol(currency)}{value:,.0f}"
    if metric == "pipeline_coverage":
        return f"{value:,.1f}×"
    if metric in COUNTS:  # split shares add up to whole deals only up to float residue (25.000000001)
        return f"{value:,.0f}" if abs(value - round(value)) < 1e-6 else f"{value:,.1f}"
    return f"{value:,.1f}"


def currency_symbol(currency: str) -> str:
    return {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}.get(currency, f"{currency} ")


def _header(label: str, definition: str) -> Any:
    return gt_html(f'<span title="{html.escape(definition, quote=True)}">{html.escape(label)}</span>')


def leaderboard(entities: list[Entity], title: str, first_column: str, data: ReportData, currency: str,
                with_team: bool = False) -> str:
    """A great-tables leaderboard: formatted numbers, attainment shaded against 100 %, definitions on hover."""
    if len(entities) > LISTED:
        half = LISTED // 2
        title = f"{title}: top {half} and bottom {half} of {len(entities):,} (report a --team for its full list)"
        entities = entities[:half] + entities[-half:]
    rows = [
        {first_column: e.name, **({"Team": e.team or "–"} if with_team else {}),
         **{metric: format_value(metric, e.value(metric), currency) for metric, _ in COLUMNS}}
        for e in entities
    ]
    names = [first_column, *(["Team"] if with_team else []), *(m for m, _ in COLUMNS)]
    # Arrow, not pandas: great-tables escapes cell by cell, and a pandas cell write costs ~1 ms
    frame = pa.table({name: pa.array([row[name] for row in rows], type=pa.string()) for name in names})
    ahead = [i for i, e in enumerate(entities) if (e.value("quota_attainment") or 0) >= 1]
    behind = [i for i, e in enumerate(entities) if e.value("quota_attainment") is not None
              and (e.value("quota_attainment") or 0) < 0.5]
    with warnings.catch_warnings():  # Arrow input is labelled experimental; the browser test reads the page back
        warnings.filterwarnings("ignore", message="PyArrow Table support is currently experimental")
        table = (
            GT(frame)
            .tab_header(title=title)
            .cols_label(**{metric: _header(label, data.definitions.get(metric, "")) for metric, label in COLUMNS})
            .cols_align("right", columns=[m for m, _ in COLUMNS])
            .tab_style(style.fill("#e6f4ea"), loc.body(columns="quota_attainment", rows=ahead))
            .tab_style(style.text(weight="bold", color="#1a7f37"), loc.body(columns="quota_attainment", rows=ahead))
            .tab_style(style.text(color="#b42318"), loc.body(columns="quota_attainment", rows=behind))
            .tab_options(table_width="100%", table_font_size="13px", heading_align="left",
                         column_labels_font_weight="bold", data_row_padding="5px")
        )
        return str(table.as_raw_html())


def _tiles(data: ReportData, currency: str) -> str:
    cells = []
    for metric, label in TILES:
        value = data.scope.value(metric)
        definition = html.escape(data.definitions.get(metric, ""), quote=True)
        tone = ""
        if metric == "quota_attainment" and value is not None:
            tone = " good" if value >= 1 else (" low" if value < 0.5 else "")
        cells.append(
            f'<div class="tile{tone}" title="{definition}" data-metric="{metric}"><div class="label">{label}</div>'
            f'<div class="value">{format_value(metric, value, currency)}</div></div>'
        )
    return "\n".join(cells)


def _losses(data: ReportData, currency: str) -> str:
    """The loss-reason table beside its chart: deals lost, revenue lost and its share, per reason."""
    if not data.loss_reasons:
        return '<p class="note">No deals lost in this period.</p>'
    total = sum(s.revenue for s in data.loss_reasons)
    rows = "".join(
        f'<tr data-reason="{html.escape(s.reason or "", quote=True)}"><td>{html.escape(s.reason or NO_REASON)}</td>'
        f'<td class="num">{format_value("deals_lost", s.deals, currency)}</td>'
        f'<td class="num">{format_value("revenue_lost", s.revenue, currency)}</td>'
        f'<td class="num">{s.revenue / total * 100 if total else 0.0:,.1f}%</td></tr>'
        for s in data.loss_reasons
    )
    heads = (("Loss reason", ""), ("Deals lost", "deals_lost"), ("Revenue lost", "revenue_lost"), ("Share", ""))
    header = "".join(
        f'<th title="{html.escape(data.definitions.get(metric, ""), quote=True)}">{label}</th>'
        for label, metric in heads
    )
    return f'<table class="losses"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def _span(start: date, end: date) -> str:
    last = end - timedelta(days=1)
    return f"{start:%b %-d, %Y} – {last:%b %-d, %Y}"


def _celebrate(data: ReportData) -> str:
    """One line naming who is at or above quota: wins worth a look first."""
    winners = [e.name for e in (*data.teams, *data.reps) if (e.value("quota_attainment") or 0) >= 1]
    if not winners:
        return ""
    more = f" and {len(winners) - 8} more" if len(winners) > 8 else ""
    shown = ", ".join(html.escape(n) for n in winners[:8]) + more
    return f'<p class="wins"><b>At or above quota:</b> {shown}</p>'


def render(data: ReportData, currency: str, vega_bundle: str) -> str:
    """The whole page as one string."""
    charts = all_charts(data)
    scope = "All teams" if data.scope.type == "company" else f"Team {data.scope.name}"
    specs = json.dumps(charts, default=str, separators=(",", ":")).replace("</", "<\\/")
    board_teams = leaderboard(data.teams, "Team leaderboard", "Team", data, currency) if data.teams else ""
    board_reps = leaderboard(data.reps, f"Rep leaderboard ({len(data.reps)} reps)", "Rep", data, currency,
                             with_team=True)

    def chart(chart_id: str) -> str:
        return f'<div class="chart" id="{chart_id}"></div>' if chart_id in charts else ""

    return PAGE.format(
        title=html.escape(f"Sales performance {data.period} · {scope}"),
        period=html.escape(data.period),
        span=_span(data.period_start, data.period_end),
        scope=html.escape(scope),
        synced=_when(data.last_synced),
        computed=_when(data.computed_at),
        fiscal_year=html.escape(data.fiscal_year),
        tiles=_tiles(data, currency),
        wins=_celebrate(data),
        team_attainment=chart("team_attainment"),
        rep_attainment=chart("rep_attainment"),
        team_over_time=chart("team_over_time"),
        rep_over_time=chart("rep_over_time"),
        funnel=chart("funnel"),
        new_vs_existing=chart("new_vs_existing"),
        satisfaction=chart("satisfaction"),
        loss_reasons=chart("loss_reasons"),
        losses=_losses(data, currency),
        board_teams=board_teams,
        board_reps=board_reps,
        vega=vega_bundle,
        specs=specs,
    )


def vega_bundle(cache_dir: Path) -> str:
    """vega + vega-lite + vega-embed as one script (~0.9 MB) from vl-convert: no CDN.

    vl-convert bundles it on each call (seconds), so it is kept in `cache_dir` per vl-convert version.
    """
    import vl_convert

    cached = cache_dir / f"vega-embed-{version('vl-convert-python')}.js"
    if cached.exists():
        return cached.read_text(encoding="utf-8")
    # the stub marks `snippet` required; without one the bundle defines the global vegaEmbed (as altair uses it)
    build_bundle: Callable[..., str] = vl_convert.javascript_bundle
    bundle = build_bundle().replace("</script", "<\\/script")
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    partial.write_text(bundle, encoding="utf-8")
    partial.replace(cached)
    return bundle


def write_report(data: ReportData, currency: str, output: Path, cache_dir: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(data, currency, vega_bundle(cache_dir)), encoding="utf-8")
    return output


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ margin: 0; background: #f4f6f9; color: #1f2430;
         font-family: Inter, "Segoe UI", Helvetica, Arial, sans-serif; }}
  header {{ background: #1f2a44; color: #fff; padding: 22px 40px 18px; }}
  header h1 {{ margin: 0; font-size: 24px; font-weight: 600; }}
  header .sub {{ margin-top: 6px; color: #c9d2e3; font-size: 13px; }}
  main {{ max-width: 1240px; margin: 0 auto; padding: 24px 32px 48px; }}
  .tiles {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 10px; }}
  .tile {{ background: #fff; border-radius: 10px; padding: 14px 18px; box-shadow: 0 1px 3px rgba(20,30,50,.08);
          cursor: help; border-top: 4px solid #4575b4; }}
  .tile.good {{ border-top-color: #1a9850; }} .tile.low {{ border-top-color: #d73027; }}
  .tile .label {{ font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #5b6475; }}
  .tile .value {{ font-size: 26px; font-weight: 600; margin-top: 4px; }}
  .wins {{ background: #e6f4ea; color: #14532d; border-radius: 8px; padding: 10px 16px; font-size: 14px; }}
  section {{ background: #fff; border-radius: 10px; padding: 18px 22px; margin-top: 18px;
            box-shadow: 0 1px 3px rgba(20,30,50,.08); }}
  section h2 {{ margin: 0 0 10px; font-size: 17px; font-weight: 600; }}
  .note {{ color: #5b6475; font-size: 12px; margin: 0 0 8px; }}
  .two {{ display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }}
  .chart {{ width: 100%; }}
  .vega-bind {{ margin: 6px 0 0; font-size: 13px; }}
  .vega-bind select {{ font-size: 13px; padding: 3px 6px; border-radius: 6px; border: 1px solid #c7ccd4; }}
  .gt_table {{ font-family: inherit !important; }}
  table.losses {{ border-collapse: collapse; width: 100%; font-size: 13px; align-self: start; }}
  table.losses th, table.losses td {{ padding: 5px 8px; border-bottom: 1px solid #eceff3; text-align: left; }}
  table.losses th[title] {{ cursor: help; }} table.losses .num {{ text-align: right; }}
  .gt_col_heading span[title] {{ cursor: help; border-bottom: 1px dotted #8a93a5; }}
  footer {{ color: #5b6475; font-size: 12px; text-align: center; margin-top: 24px; }}
</style>
<script>{vega}</script>
</head><body>
<header><h1>Sales performance · {period}</h1>
<div class="sub">{span} · {scope} · data last synced {synced} · KPIs computed {computed}</div></header>
<main>
<div class="tiles">{tiles}</div>
{wins}
<section><h2>Leaderboards</h2>
<p class="note">Attainment = revenue won / quota. Hover a column or tile for its definition.</p>
<div class="two">{team_attainment}{rep_attainment}</div>
{board_teams}
</section>
<section><h2>Attainment over fiscal year {fiscal_year}</h2>
<p class="note">Cumulative revenue won as a share of the fiscal year's quota (solid) against the pro-rated quota
(dashed). Pick a team or a rep.</p>
<div class="two">{team_over_time}{rep_over_time}</div></section>
<section><h2>Pipeline stages</h2>{funnel}</section>
<section><h2>Customers</h2><div class="two">{new_vs_existing}{satisfaction}</div></section>
<section><h2>Learning from losses</h2>
<p class="note">Deals lost in the period by the reason the rep gave (Salesforce Loss_Reason__c, HubSpot
closed_lost_reason), with the revenue they took.</p>
<div class="two">{loss_reasons}{losses}</div></section>
<section>{board_reps}</section>
<footer>spm-sync report · {span} · data last synced {synced}</footer>
</main>
<script type="application/json" id="specs">{specs}</script>
<script>
  const specs = JSON.parse(document.getElementById("specs").textContent);
  for (const [id, spec] of Object.entries(specs)) {{
    vegaEmbed("#" + id, spec, {{actions: false, renderer: "svg"}}).catch(console.error);
  }}
</script>
</body></html>
"""
