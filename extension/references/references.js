// The references of the article in one tab, checked in one go. The list is the one the
// helper read from the page (payload.references of the tab's lookup); the service
// worker sends it to the helper's /v1/batch and passes each answer on as it arrives,
// over a port. The page fills in each reference, keeps a summary line, and offers the
// answers as a CSV file (the columns of `oahelper audit`). A reference whose answer
// waited for a busy source shows "Checking…" until the helper sends its line again
// (the same index): the later line replaces the earlier one.
//
// Which tab: ?tab=<id>, set by the popup's "Check the N references".

import { csvText, REPORT_NUMBERS } from "../lib/csv.js";
import { COLORS, hostOf, linkWords, rowStatus, versionWords } from "../lib/describe.js";
import { $, el, link } from "../lib/dom.js";
import "../lib/messages.js";

const { MSG, send, connectBatch } = globalThis.oahelper.messages;

const tabId = Number(new URLSearchParams(location.search).get("tab"));
const rows = new Map(); // index -> the latest batch row of that reference
const waiting = new Set(); // indexes whose latest line is still pending
let references = [];

function isWebUrl(url) {
  try {
    return ["http:", "https:"].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

function describe(ref) {
  const authors = ref.authors ?? [];
  const who = authors.length > 3 ? `${authors.slice(0, 3).join(", ")} et al.` : authors.join(", ");
  return [who, ref.journal, ref.year].filter(Boolean).join(" · ");
}

function listItem(ref, index) {
  const li = el("li", { "data-index": String(index), "data-status": "checking" },
    el("span", { class: "ref-title" }, ref.title || ref.text || ref.doi || "A reference"));
  const meta = describe(ref);
  if (meta) li.append(el("span", { class: "ref-meta" }, meta));
  if (ref.doi) li.append(el("span", { class: "ref-meta" }, link(`https://doi.org/${encodeURI(ref.doi)}`, `doi:${ref.doi}`)));
  li.append(el("span", { class: "ref-answer" }, "Checking…"));
  return li;
}

// The known link states only: "not checked yet" on every row says nothing.
function linkFact(row) {
  return row.link && row.link !== "unchecked" ? linkWords({ state: row.link }) : null;
}

function fill(index, row, pending = []) {
  rows.set(index, row);
  if (pending.length) waiting.add(index);
  else waiting.delete(index);
  const li = $("references").querySelector(`li[data-index="${index}"]`);
  if (!li) return;
  const shown = pending.length ? "checking" : row.status;
  li.dataset.status = shown;
  const answer = li.querySelector(".ref-answer");
  answer.replaceChildren();
  const status = rowStatus(shown);
  const pill = el("span", { class: "pill" }, status.text);
  pill.style.background = COLORS[status.color].bg;
  pill.style.color = COLORS[status.color].fg;
  answer.append(pill);
  if (pending.length) {
    if (row.problem) answer.append(el("span", { class: "muted" }, row.problem));
  } else if (row.status === "open" && isWebUrl(row.best_url)) {
    answer.append(link(row.best_url, `Read the ${versionWords(row.version)} at ${hostOf(row.best_url)}`, { class: "free-link" }));
    const facts = [row.oa_status ? `${row.oa_status} OA` : null, row.license, row.host_type, linkFact(row),
      row.free_copies > 1 ? `${row.free_copies} free copies` : null].filter(Boolean);
    if (facts.length) answer.append(el("span", { class: "muted" }, facts.join(" · ")));
  } else if (row.problem) {
    answer.append(el("span", { class: "muted" }, row.problem));
  }
  applyFilter();
  summarise(false);
}

// Counted from the final rows: a row still pending is not answered yet. "No free copy"
// and "not found" (no source knows it) are counted apart.
function summarise(done) {
  const final = [...rows.entries()].filter(([index]) => !waiting.has(index)).map(([, row]) => row);
  const count = (status) => final.filter((r) => r.status === status).length;
  const total = references.length;
  const apart = [[count("closed"), "with no free copy"], [count("not_found"), "not found"]]
    .filter(([n]) => n).map(([n, words]) => `${n} ${words}`).join(", ");
  const summary = $("summary");
  summary.dataset.state = done ? "done" : "checking";
  summary.textContent = done
    ? `${count("open")} of ${total} references have a free copy${apart ? ` (${apart})` : ""}`
    : `${count("open")} of ${total} references have a free copy so far (${final.length} of ${total} checked)…`;
  $("download-csv").disabled = rows.size === 0;
}

function applyFilter() {
  const freeOnly = $("free-only").checked;
  for (const li of $("references").children) {
    li.hidden = freeOnly && li.dataset.status !== "open";
  }
}

function downloadCsv() {
  const ordered = [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, row]) => row);
  if (!ordered.length) return;
  // The helper's own rule (lib/csv.js): no cell is read as a formula by a spreadsheet.
  const text = csvText(Object.keys(ordered[0]), ordered, REPORT_NUMBERS);
  const blob = new Blob([text], { type: "text/csv;charset=utf-8" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "references.csv";
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function showProblem(message) {
  $("problem").textContent = message;
  $("problem").hidden = false;
}

async function start() {
  const report = await send(MSG.TAB_REPORT, { tabId });
  const state = report?.state;
  const payload = state?.kind === "result" ? state.payload : null;
  references = payload?.references ?? [];
  const article = payload?.article ?? {};
  const title = $("article-link");
  title.textContent = article.title || report?.url || "this article";
  if (isWebUrl(report?.url)) title.href = report.url;
  document.title = `oahelper: references of ${article.title || "this article"}`;
  if (!references.length) {
    $("summary").dataset.state = "done";
    $("summary").textContent = "The helper found no list of references on this page.";
    return;
  }
  $("references").replaceChildren(...references.map(listItem));
  summarise(false);
  const port = connectBatch();
  port.onMessage.addListener((msg) => {
    if (msg.item) fill(msg.item.index, msg.item.row, msg.item.pending ?? []);
    if (msg.done) {
      // A reference still waiting when the helper gave up asking: its last line stands.
      for (const index of [...waiting]) fill(index, rows.get(index));
      summarise(true);
    }
    if (msg.error) showProblem(msg.error.message);
  });
  port.onDisconnect.addListener(() => {
    if ($("summary").dataset.state !== "done") showProblem("The check stopped before the last answer; reload this page to try again.");
  });
  port.postMessage({ type: MSG.CHECK_REFERENCES, tabId });
}

$("download-csv").addEventListener("click", downloadCsv);
$("free-only").addEventListener("change", applyFilter);
start().catch((err) => showProblem(String(err?.message ?? err)));
