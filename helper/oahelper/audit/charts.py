"""The report's charts: Altair specifications rendered to SVG by vl-convert, at report
time, so the HTML file needs no script or network to show them.

Each function takes the run's ``Tally`` and returns an SVG string, or None when there
is nothing to draw. Colours are the extension's badge colours (extension/lib/describe.js).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import vl_convert

from oahelper.audit.tally import Tally

FREE_ELSEWHERE = "free (not in Unpaywall)"
OA_ORDER = ("gold", "hybrid", "bronze", "green", FREE_ELSEWHERE, "closed")
OA_COLOURS = ("#f2c230", "#1d5fa8", "#8a4b1c", "#1e7b34", "#4f9a62", "#b3261e")
HOST_COLOURS = {"publisher": "#1d5fa8", "repository": "#1e7b34", "host not stated": "#5f6368"}
WIDTH = 380
# A wide font first: vl-convert sizes the chart by measuring its labels with the first
# family it finds, and a narrower font in the reader's browser then still fits.
FONT = "DejaVu Sans, Verdana, sans-serif"
MAX_BARS = 12


def _svg(chart: alt.TopLevelMixin) -> str:
    spec = chart.properties(padding={"left": 16, "right": 24, "top": 4, "bottom": 4}).configure(
        font=FONT).configure_view(stroke=None).configure_axis(
        labelFontSize=12, titleFontSize=12, grid=False).configure_legend(
        labelFontSize=12, titleFontSize=12, orient="bottom", labelLimit=260).to_dict()
    # No data comes from anywhere but the spec itself.
    return vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])


def _oa_scale(present: Sequence[str]) -> alt.Scale:
    domain = [o for o in OA_ORDER if o in present] + sorted(set(present) - set(OA_ORDER))
    colours = dict(zip(OA_ORDER, OA_COLOURS, strict=True))
    return alt.Scale(domain=domain, range=[colours.get(o, "#5f6368") for o in domain])


def _data(values: list[dict[str, Any]]) -> alt.Data:
    """``values`` written into the spec where they are used (Altair moves those of an
    ``InlineData`` or a dict to the spec's ``datasets``)."""
    # Altair leaves the schema wrapper's __init__ (*args, **kwds) unannotated.
    return alt.Data(values=values)  # type: ignore[no-untyped-call]


def _bar_height(n: int) -> int:
    return max(40, 26 * n)


def _horizontal(values: list[dict[str, Any]], label: str, colour: alt.Color | Mapping[str, object],
                sort: list[str]) -> alt.LayerChart | alt.FacetChart:
    """Bars of ``n`` by ``label``, in ``sort`` order, each with its number at its end
    (``colour``: a scale, or one ``alt.value``)."""
    base = alt.Chart(_data(values)).encode(
        y=alt.Y(f"{label}:N", sort=sort, title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("n:Q", title="references", axis=alt.Axis(tickMinStep=1, format="d")))
    # Altair's mark_* methods take their signature from a decorator that hides the
    # chart they return.
    bars: alt.Chart = base.mark_bar(cornerRadiusEnd=2).encode(color=colour)
    numbers: alt.Chart = base.mark_text(align="left", dx=4, fontSize=12).encode(text="n:Q")
    return (bars + numbers).properties(width=WIDTH, height=_bar_height(len(values)))


def oa_status_chart(tally: Tally) -> str | None:
    """How many references per kind of open access (Unpaywall's oa_status)."""
    if not tally.oa_status:
        return None
    present = list(tally.oa_status)
    scale = _oa_scale(present)
    values = [{"oa": oa, "n": tally.oa_status[oa]} for oa in scale.domain]
    return _svg(_horizontal(values, "oa", alt.Color("oa:N", scale=scale, legend=None),
                            list(scale.domain)))


def year_chart(tally: Tally) -> str | None:
    """References per publication year, stacked by kind of open access."""
    if not tally.year_oa:
        return None
    scale = _oa_scale(list({oa for _, oa in tally.year_oa}))
    order = {oa: i for i, oa in enumerate(scale.domain)}
    values = [{"year": y, "oa": oa, "n": n, "order": order[oa]} for (y, oa), n in tally.year_oa.items()]
    years = sorted({y for y, _ in tally.year_oa}, key=lambda y: (not y.isdigit(), y))
    chart = alt.Chart(_data(values)).mark_bar().encode(
        x=alt.X("year:O", sort=years, title=None, axis=alt.Axis(labelAngle=-45 if len(years) > 8 else 0)),
        y=alt.Y("sum(n):Q", title="references", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("oa:N", scale=scale, title="OA status"),
        order=alt.Order("order:Q"),
        tooltip=["year:O", "oa:N", "n:Q"])
    return _svg(chart.properties(width=max(WIDTH, 14 * len(years)), height=200))


def _top(counts: dict[str, int], limit: int = MAX_BARS) -> list[tuple[str, int]]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) <= limit:
        return ranked
    rest = sum(n for _, n in ranked[limit - 1:])
    return [*ranked[:limit - 1], (f"{len(ranked) - limit + 1} other licences", rest)]


def license_chart(tally: Tally) -> str | None:
    """Licences of the best free copies."""
    if not tally.license:
        return None
    ranked = _top(dict(tally.license))
    values = [{"licence": name, "n": n} for name, n in ranked]
    return _svg(_horizontal(values, "licence", alt.value("#1d5fa8"), [name for name, _ in ranked]))


def version_host_chart(tally: Tally) -> str | None:
    """Versions of the best free copies, split by where they are hosted."""
    if not tally.version_host:
        return None
    values = [{"version": v, "host": h, "n": n} for (v, h), n in tally.version_host.items()]
    versions = ["published version", "accepted manuscript", "preprint", "version not stated"]
    hosts = [h for h in HOST_COLOURS if any(h == v["host"] for v in values)]
    chart = alt.Chart(_data(values)).mark_bar().encode(
        y=alt.Y("version:N", sort=versions, title=None),
        x=alt.X("sum(n):Q", title="references", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("host:N", title="host", scale=alt.Scale(
            domain=hosts, range=[HOST_COLOURS[h] for h in hosts])),
        tooltip=["version:N", "host:N", "n:Q"])
    n_versions = len({v["version"] for v in values})
    return _svg(chart.properties(width=WIDTH, height=_bar_height(n_versions)))


def cc_chart(tally: Tally) -> str | None:
    """Of the references with an answer, how many have a copy under CC BY or CC0."""
    if not tally.cc_by_or_cc0:
        return None
    labels = {"yes": "a copy under CC BY or CC0", "no": "no CC BY or CC0 copy"}
    values = [{"cc": labels[k], "n": tally.cc_by_or_cc0[k]} for k in ("yes", "no") if tally.cc_by_or_cc0[k]]
    colour = alt.Color("cc:N", legend=None, scale=alt.Scale(
        domain=list(labels.values()), range=["#1e7b34", "#b3261e"]))
    return _svg(_horizontal(values, "cc", colour, list(labels.values())))


# What each link state means in a chart, and its colour: works, passable, not known, broken.
LINK_LABELS = {
    "pdf": ("PDF opened", "#1e7b34"), "landing": ("article page opened", "#1e7b34"),
    "challenge": ("bot check (the browser passes it)", "#8a6d00"),
    "consent": ("cookie wall (the browser passes it)", "#8a6d00"),
    "unchecked": ("not checked", "#5f6368"), "error": ("could not be checked", "#5f6368"),
    "login": ("broken: asks to sign in", "#b3261e"), "paywall": ("broken: a paywall", "#b3261e"),
    "gone": ("broken: gone", "#b3261e"), "wrong_article": ("broken: another paper", "#b3261e"),
}


def link_chart(tally: Tally) -> str | None:
    """What opening the best copy's link gave, for each reference with a copy."""
    if not tally.links:
        return None
    present = [state for state in LINK_LABELS if tally.links[state]]
    values = [{"link": LINK_LABELS[s][0], "n": tally.links[s]} for s in present]
    labels = [LINK_LABELS[s][0] for s in present]
    colour = alt.Color("link:N", legend=None, scale=alt.Scale(
        domain=labels, range=[LINK_LABELS[s][1] for s in present]))
    return _svg(_horizontal(values, "link", colour, labels))


# (id, heading, what it shows, function): the report's charts, in page order.
CHARTS = (
    ("oa-status", "By open-access status", "Unpaywall's status of each reference with an answer.",
     oa_status_chart),
    ("by-year", "By year", "References per publication year, by open-access status.", year_chart),
    ("licence", "Licence of the free copy", "The licence of the best free copy of each free reference.",
     license_chart),
    ("version-host", "Version and host", "Which version the best free copy is, and whether the "
     "publisher or a repository hosts it.", version_host_chart),
    ("cc-by", "CC BY or CC0", "Whether any free copy is under CC BY or CC0, as funder mandates "
     "such as Plan S require.", cc_chart),
    ("links", "Links checked", "What opening the best copy's link gave: a copy whose link is "
     "broken is not counted as free.", link_chart),
)
