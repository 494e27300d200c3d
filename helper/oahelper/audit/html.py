"""The HTML report: one self-contained file a librarian can forward.

Totals and the share free first, then the charts (inline SVG from ``charts.py``), then
every entry in a table that sorts and filters in the browser with a small inline
script. Nothing is loaded from anywhere: a Content-Security-Policy forbids it, so the
file opens offline and a hostile title in a reading list cannot run or fetch anything.

Rows stream to a temporary file as they come; the page is put together at the end,
so a long list is never held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
from datetime import datetime
from html import escape
from importlib import resources
from pathlib import Path, PurePath

from oahelper import __version__
from oahelper.audit.charts import CHARTS
from oahelper.audit.rows import Row
from oahelper.audit.tally import AuditSummary
from oahelper.engine.merge import VERSION_WORDS, is_web_url

STATUS_WORDS = {"open": "Free", "closed": "No free copy", "unknown": "Could not check",
                "no_identifier": "No identifier", "unreadable": "Unreadable"}
ASSETS = resources.files("oahelper.audit") / "report"


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _link(url: str | None, text: str) -> str:
    """A link that opens in a new tab, for web addresses only (never javascript:)."""
    if not url or not is_web_url(url):
        return _e(text)
    return f'<a href="{_e(url)}" rel="noopener noreferrer" target="_blank">{_e(text)}</a>'


def _copy_cell(row: Row) -> str:
    """The best free copy: a link, then what it is (version, host, licence)."""
    if not row.best_url:
        return "<td></td>"
    facts = [VERSION_WORDS.get(row.version or "", ""), row.host_type or "", row.license or ""]
    more = f" · {row.free_copies} copies" if row.free_copies > 1 else ""
    tag = ' <span class="tag">CC BY/CC0</span>' if row.cc_by_or_cc0 else ""
    return (f"<td>{_link(row.best_url, 'free copy')}{tag}"
            f'<span class="meta">{_e(" · ".join(f for f in facts if f))}{_e(more)}</span></td>')


def row_html(row: Row) -> str:
    """One table row; ``data-sort`` holds what a sortable column sorts by."""
    title = row.title or row.reference or ""
    name = PurePath(row.file).name
    where = f"{name}:{row.line}" if row.line else name
    if not (row.key.startswith(("line ", "row ")) and row.line):  # else the key says it twice
        where = f"{row.key} · {where}"
    ident = ""
    if row.doi:
        ident = _link(f"https://doi.org/{row.doi}", row.doi)
    elif row.identified_by:
        ident = _e(f"{row.identified_by}:{getattr(row, row.identified_by)}")
    journal = f"<i>{_e(row.journal)}</i> · " if row.journal else ""
    problem = f'<span class="problem">{_e(row.problem)}</span>' if row.problem else ""
    oa = (f' <span class="oa oa-{_e(row.oa_status)}">{_e(row.oa_status)}</span>'
          if row.oa_status and row.oa_status != "closed" else "")
    cells = [
        f'<td data-sort="{_e(title.lower())}"><span class="title">{_e(title) or "<i>no title</i>"}</span>'
        f'<span class="meta">{journal}{_e(where)}</span>{problem}</td>',
        f'<td data-sort="{row.year or 0}">{_e(row.year)}</td>',
        f'<td data-sort="{STATUS_ORDER.get(row.status, 9)}{_e(row.oa_status or "")}">'
        f'<span class="status s-{_e(row.status)}">{_e(STATUS_WORDS.get(row.status, row.status))}</span>{oa}</td>',
        _copy_cell(row),
        f'<td class="ident">{ident}</td>',
    ]
    return f'<tr data-status="{_e(row.status)}">{"".join(cells)}</tr>\n'


COLUMNS = ("Reference", "Year", "Status", "Free copy", "Identifier")
SORTABLE = {"Reference", "Year", "Status"}
STATUS_ORDER = {s: i for i, s in enumerate(STATUS_WORDS)}


def _figure(summary: AuditSummary) -> str:
    tally = summary.tally
    share = tally.share_free()
    cards = [
        ("free", "free copy", tally.free),
        ("closed", "no free copy", tally.status["closed"]),
        ("unknown", "could not check", tally.status["unknown"]),
        ("noid", "no identifier", tally.status["no_identifier"]),
        ("unreadable", "unreadable", tally.status["unreadable"]),
        ("cc", "under CC BY or CC0", tally.cc_by_or_cc0["yes"]),
    ]
    items = "".join(f'<li class="card c-{key}"><span class="n" id="n-{key}">{n}</span> {label}</li>'
                    for key, label, n in cards)
    big = f"{share:.0%}" if share is not None else "–"
    counts = (f'<strong id="n-total-free">{tally.free}</strong> of '
              f'<strong id="n-total">{tally.total}</strong> references')
    if tally.checked == tally.total:
        said = f"free: {counts} have a free copy"
    else:  # the share is of the answered ones: say so, or 92% next to 12 of 15 reads wrong
        said = (f"of the {tally.checked} references with an answer have a free copy "
                f"({counts} in the list; {tally.total - tally.checked} without an answer)")
    return (f'<section class="totals" aria-label="Totals"><p class="share"><span id="share">{big}</span>'
            f'<span class="of">{said}'
            + f'</span></p><ul class="cards">{items}</ul></section>')


def _charts(summary: AuditSummary) -> str:
    figures = []
    for chart_id, heading, what, draw in CHARTS:
        svg = draw(summary.tally)
        body = svg if svg else '<p class="empty">Nothing to show: no reference has an answer.</p>'
        figures.append(f'<figure id="chart-{chart_id}" role="img" aria-label="{_e(heading)}: {_e(what)}">'
                       f'<figcaption><h3>{_e(heading)}</h3><p>{_e(what)}</p></figcaption>{body}</figure>')
    return f'<section class="charts" aria-label="Charts">{"".join(figures)}</section>'


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src 'sha256-{digest}'")


class HtmlWriter:
    """Streams rows into a temporary file; writes the page on ``close``."""

    def __init__(self, path: Path, title: str) -> None:
        self.path = path
        self.title = title
        self._rows = tempfile.TemporaryFile("w+", encoding="utf-8")
        path.open("w").close()  # fail now, not after an hour, when the place is not writable

    def write(self, row: Row) -> None:
        self._rows.write(row_html(row))

    def close(self, summary: AuditSummary) -> None:
        script = _asset("report.js")
        made = datetime.now().strftime("%Y-%m-%d %H:%M")
        heads = "".join(
            (f'<th scope="col"><button type="button" data-col="{i}">{_e(c)}</button></th>'
             if c in SORTABLE else f'<th scope="col">{_e(c)}</th>') for i, c in enumerate(COLUMNS))
        statuses = "".join(f'<option value="{_e(s)}">{_e(w)}</option>' for s, w in STATUS_WORDS.items()
                           if summary.tally.status[s])
        notes = "".join(f"<li>{_e(n)}</li>" for n in summary.notes)
        warning = ('<p class="warning" role="alert">This audit was interrupted: the report holds the '
                   f"{summary.tally.total} references answered so far. Run the same command again "
                   "to finish it.</p>") if summary.interrupted else ""
        with self.path.open("w", encoding="utf-8") as out:
            out.write(f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                      f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                      f'<meta http-equiv="Content-Security-Policy" content="{_csp(script)}">'
                      f'<title>{_e(self.title)}</title><style>{_asset("report.css")}</style></head>\n'
                      f'<body><header><h1>{_e(self.title)}</h1>'
                      f'<p class="meta">Read from {_e(", ".join(summary.inputs))} · made {made} by '
                      f'oahelper {__version__} from Unpaywall and the other sources it asks</p>'
                      f'{warning}</header>\n<main>{_figure(summary)}\n{_charts(summary)}\n'
                      f'<section aria-labelledby="list-heading"><h2 id="list-heading">The references</h2>'
                      f'<div class="controls"><label>Search <input id="filter" type="search" '
                      f'placeholder="title, journal, DOI…"></label><label>Status <select id="status-filter">'
                      f'<option value="">all</option>{statuses}</select></label>'
                      f'<span id="shown" aria-live="polite"></span></div>'
                      f'<div class="scroll"><table id="items"><thead><tr>{heads}</tr></thead><tbody>\n')
            self._rows.seek(0)
            shutil.copyfileobj(self._rows, out)
            out.write('</tbody></table></div></section></main>\n<footer>'
                      + (f"<ul>{notes}</ul>" if notes else "")
                      + '<p><b>Free</b>: a legal free copy exists (the link goes to the best one: '
                        "published version first, then the accepted manuscript, then a preprint). "
                        "<b>OA status</b> is Unpaywall's: gold (open journal), hybrid (open article in a "
                        "subscription journal), bronze (free to read at the publisher, no open licence), "
                        "green (free in a repository). <b>CC BY/CC0</b>: a free copy is under one of "
                        "these licences.</p></footer>\n"
                      f"<script>{script}</script></body></html>\n")
        self._rows.close()
