// The toolbar popup: what oahelper found for one tab, or what is wrong and what to
// do about it. It asks the service worker (never the helper) by message.
//
// Which tab: the active tab of this window, or ?tab=<id> (tests open the popup as a
// tab of its own and name the tab it reports on).

import {
  COLORS, describeResult, errorHelp, HELD_WORDS, hostOf, hostWords, isBroken, isPending, linkState, linkWords,
  oaWords, sourceNames, sourceProblems, versionWords,
} from "../lib/describe.js";
import { $, el, link } from "../lib/dom.js";
import { FOLLOW_UP_DELAYS_MS, followUp } from "../lib/follow-up.js";
import "../lib/messages.js";
import { setSiteOff } from "../lib/settings.js";
import { watchTabState } from "../lib/tab-state.js";

const { MSG, ask } = globalThis.oahelper.messages;

// Longer than any lookup may take (LOOKUP_MS in lib/helper-client.js, which only
// the service worker loads).
const STUCK_MS = 20000;
// A pending answer not renewed for this long: nobody is asking again any more (the
// browser stopped the service worker under its loop, background/follow-ups.js).
const STALLED_MS = STUCK_MS + Math.max(...FOLLOW_UP_DELAYS_MS);
let tabId = null;
let report = null;
// What was typed in the box and is shown instead of the tab's answer: the tab's
// changes no longer redraw the popup. `asking` stops its asking again.
let typed = null;

async function targetTab() {
  const named = new URLSearchParams(location.search).get("tab");
  if (named) return Number(named);
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

function setStatus(text, state, color = null, pending = null) {
  const status = $("status");
  status.textContent = text;
  status.dataset.state = state;
  if (pending) status.dataset.pending = pending;
  else delete status.dataset.pending;
  status.style.borderLeftColor = color ? COLORS[color].bg : "";
}

function hideAll() {
  for (const id of ["problem", "article", "best", "others", "broken", "actions-box", "source-box", "check-row", "command-row", "best-pdf-row", "references-row", "offline-note", "snapshot-note"]) {
    $(id).hidden = true;
  }
  for (const id of ["locations", "broken-locations", "actions", "source-problems"]) $(id).replaceChildren();
}

function citationLine(article) {
  const authors = article.authors ?? [];
  const who = authors.length > 3 ? `${authors.slice(0, 3).join(", ")} et al.` : authors.join(", ");
  return [who, article.journal, article.year, article.doi ? `doi:${article.doi}` : null]
    .filter(Boolean).join(" · ");
}

function licenceWords(license) {
  return license ? license.toUpperCase().replace(/^CC-/, "CC ") : "none stated";
}

function showProblem(error, port) {
  const help = errorHelp(error, port);
  setStatus(help.title, error.kind, "problem");
  $("problem").hidden = false;
  $("problem-body").textContent = help.body;
  if (help.command) {
    $("command").textContent = help.command;
    $("command-row").hidden = false;
  }
  $("retry").hidden = help.action !== "retry" && error.kind !== "not_paired";
  $("open-options").hidden = help.action !== "options";
}

// "Found by title in Crossref (98 % alike)": how a search identified the article.
function matchLine(match) {
  if (!match) return "";
  const how = match.query === "reference" ? "reference" : "title";
  return `Found by ${how} in ${sourceNames([match.by])} (${Math.round((match.score ?? 0) * 100)} % alike).`;
}

// A copy in the list: where, what, who found it, and what opening its link gave.
function locationItem(loc, checking) {
  const state = linkState(loc);
  const li = el("li", { "data-link": state },
    link(loc.url, `${versionWords(loc.version)} at ${hostOf(loc.url)}`),
    el("span", { class: "muted" }, `${hostWords(loc)} · licence: ${licenceWords(loc.license)} · found by ${sourceNames(loc.found_by ?? [loc.source])}`),
    el("span", { class: "link-state" }, linkWords(loc.link, { checking })),
  );
  if (loc.pdf_url && loc.pdf_url !== loc.url) li.append(" ", link(loc.pdf_url, "PDF"));
  return li;
}

function showResult(payload, { unfinished = false } = {}) {
  const d = describeResult(payload, { unfinished });
  setStatus(d.headline, payload.status, d.color, d.pending ? payload.pending.join(" ") : null);
  const checking = d.pending && payload.pending.includes("links");
  const article = payload.article ?? {};
  if (payload.status !== "not_article") {
    $("article").hidden = false;
    $("title").textContent = article.title || "Untitled article";
    $("citation").textContent = citationLine(article);
    $("match").textContent = matchLine(article.match);
    $("match").hidden = !article.match;
  }
  $("offline-note").hidden = !payload.offline;
  const snapshot = payload.sources?.snapshot;
  if (snapshot?.state === "ok" && snapshot.as_of) {
    // How fresh the answer is: the local copy is as old as its newest record.
    $("snapshot-note").textContent = `Answered from your Unpaywall snapshot of ${snapshot.as_of}.`;
    $("snapshot-note").hidden = false;
  }
  const best = payload.best;
  if (best) {
    $("best").hidden = false;
    const bestLink = $("best-link");
    bestLink.href = best.url;
    bestLink.textContent = `Read the ${versionWords(best.version)} at ${hostOf(best.url)}`;
    $("best-version").textContent = versionWords(best.version);
    $("best-license").textContent = licenceWords(best.license);
    $("best-host").textContent = hostWords(best);
    $("best-found-by").textContent = sourceNames(best.found_by ?? [best.source]);
    $("best-link-state").textContent = linkWords(best.link, { checking });
    $("best-link-state").dataset.link = linkState(best);
    const kind = oaWords(payload.oa_status);
    $("oa-kind").textContent = kind ? `This article is ${kind}.` : "";
    if (best.pdf_url) {
      $("best-pdf").href = best.pdf_url;
      $("best-pdf-row").hidden = false;
    }
  }
  // The other copies, then those whose links are broken (never the best), apart.
  const others = (payload.locations ?? []).filter((loc) => !best || loc.url !== best.url);
  const working = others.filter((loc) => !isBroken(loc));
  const broken = others.filter(isBroken);
  $("locations").append(...working.map((loc) => locationItem(loc, checking)));
  $("broken-locations").append(...broken.map((loc) => locationItem(loc, checking)));
  $("others").hidden = working.length === 0;
  $("broken").hidden = broken.length === 0;
  for (const action of payload.actions ?? []) {
    $("actions").append(el("li", { "data-kind": action.kind }, link(action.url, action.label)));
  }
  $("actions-box").hidden = !(payload.actions ?? []).length;
  for (const problem of sourceProblems(payload)) {
    $("source-problems").append(el("li", {}, `${problem.name}: ${problem.message}`));
  }
  $("source-box").hidden = $("source-problems").children.length === 0;
  if (payload.status === "not_article") $("check-row").hidden = false;
  const references = payload.references ?? [];
  if (references.length) {
    $("check-references").textContent = references.length === 1
      ? "Check the 1 reference" : `Check the ${references.length} references`;
    $("references-row").hidden = false;
  }
}

function render() {
  hideAll();
  const state = report?.state;
  $("site-row").hidden = !report?.site;
  $("site-name").textContent = report?.site ?? "";
  $("site-toggle").checked = !report?.siteOff;
  $("site-toggle").disabled = !report?.badgeEnabled;
  $("badges-off").hidden = report?.badgeEnabled !== false;
  if (!state || state.kind === "checking") {
    setStatus("Checking this article…", "checking");
  } else if (state.kind === "error") {
    showProblem(state.error, report.port);
  } else if (state.kind === "result") {
    showResult(state.payload, state);
  } else if (state.kind === "held") {
    setStatus(HELD_WORDS, "held");
  } else if (state.kind === "unsupported") {
    setStatus("oahelper works on web pages (http and https) only.", "unsupported");
  } else {
    setStatus("This page does not look like an article.", state.kind);
    $("check-row").hidden = false;
  }
}

// Back to the tab's own answer (Retry, "Check this page anyway").
function forgetTyped() {
  typed?.asking.abort();
  typed = null;
}

async function check() {
  forgetTyped();
  setStatus("Checking this article…", "checking");
  report = await ask(MSG.CHECK, { tabId });
  render();
}

async function showReport() {
  report = await ask(MSG.TAB_REPORT, { tabId });
  if (!typed) render();
}

async function start() {
  tabId = await targetTab();
  if (tabId === null) {
    setStatus("No tab to look at.", "unsupported");
    return;
  }
  // The automatic check may still be running when the popup opens: follow its answer.
  watchTabState(tabId, showReport);
  await showReport();
  // Opening the popup is the user asking: check a page that was not checked (no
  // scholarly metadata, or a site switched off), and try again after a problem
  // (the user may just have started the helper).
  const state = report.state;
  const kind = state?.kind;
  const age = Date.now() - (state?.at ?? 0);
  // A check that never finished (the browser stopped the service worker under it).
  const stuck = kind === "checking" && age > STUCK_MS;
  // An answer whose checks could not finish, or that nobody asks about again any more.
  const unsettled = kind === "result" && isPending(state.payload) && (state.unfinished || age > STALLED_MS);
  if (!kind || stuck || unsettled || ["not_article", "site_off", "error", "held"].includes(kind)) await check();
}

// The answer for what was typed, asked again while it is pending, as the service
// worker does for a tab.
async function lookUpTyped(query) {
  const { state } = await ask(MSG.LOOKUP_QUERY, { query });
  if (state.kind !== "result") throw new Error(state.error.message);
  return state.payload;
}

function showTyped(payload, unfinished = false) {
  hideAll();
  showResult(payload, { unfinished });
}

// The box: look up what the user typed, whatever tab is open.
$("query-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = $("query").value.trim();
  if (!query) return;
  forgetTyped();
  const mine = { asking: new AbortController() };
  typed = mine;
  hideAll();
  setStatus("Looking it up…", "checking");
  const { state } = await ask(MSG.LOOKUP_QUERY, { query });
  if (typed !== mine) return;
  hideAll();
  if (state.kind !== "result") {
    showProblem(state.error, report?.port);
    return;
  }
  showResult(state.payload);
  const done = await followUp(state.payload, {
    signal: mine.asking.signal,
    ask: () => lookUpTyped(query),
    onAnswer: (payload) => showTyped(payload),
  });
  if (done && !done.finished) showTyped(done.payload, true);
});

$("retry").addEventListener("click", check);
$("check").addEventListener("click", check);
$("open-options").addEventListener("click", () => chrome.runtime.openOptionsPage());
$("settings").addEventListener("click", () => chrome.runtime.openOptionsPage());
$("check-references").addEventListener("click", async () => {
  await chrome.tabs.create({ url: chrome.runtime.getURL(`references/references.html?tab=${tabId}`) });
  if (!new URLSearchParams(location.search).get("tab")) window.close();
});
$("copy-command").addEventListener("click", async () => {
  await navigator.clipboard.writeText($("command").textContent);
  $("copy-command").textContent = "Copied";
});
$("site-toggle").addEventListener("change", async (event) => {
  if (report?.site) await setSiteOff(report.site, !event.target.checked);
});

start().catch((err) => setStatus(`Something went wrong: ${err.message}`, "failed", "problem"));
