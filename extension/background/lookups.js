// Looking up what a tab shows: on its own (the content script sends an article page),
// when the user asks (popup: opening, Retry, "Check this page"), and what the user
// types in the popup's box. Each answer becomes the tab's state (lib/tab-state.js,
// which also sets the toolbar badge) and its on-page badge (page-badge.js). An answer
// with work still pending is asked about again by follow-ups.js.

import { contentMayLookUp, forgetContentLookups } from "./content-limit.js";
import { followUpTab, stopFollowUp } from "./follow-ups.js";
import { showOnPage, viewFor } from "./page-badge.js";
import { callHelper, LOOKUP_MS, plainError } from "../lib/helper-client.js";
import { getSettings, siteOf } from "../lib/settings.js";
import { forgetTabState, getTabState, setTabState } from "../lib/tab-state.js";

// Per tab, the number of the newest lookup: an older answer arriving late (the user
// moved on to another article in a single-page site) must not overwrite a newer one.
const newest = new Map();

// A newer lookup (or word from the page) for the tab: an older one, and the asking
// again for it, are no longer wanted.
function supersede(tabId) {
  stopFollowUp(tabId);
  const seq = (newest.get(tabId) ?? 0) + 1;
  newest.set(tabId, seq);
  return seq;
}

const lookupBody = (page) => (page.html ? { url: page.url, html: page.html } : { url: page.url });

// The answer, written: the tab's state, and asking again while it is pending, unless a
// newer lookup came along while it was written.
async function settle(tabId, page, state) {
  const seq = newest.get(tabId);
  const written = await setTabState(tabId, state);
  if (newest.get(tabId) === seq) followUpTab(tabId, lookupBody(page), written);
  return written;
}

// The answer for a page, or null when a newer lookup for the tab superseded it. The
// "checking" state is written while the helper works, not before: the badge waits for
// nothing but the answer.
async function ask(tabId, page, settings = undefined) {
  const seq = supersede(tabId);
  const checking = setTabState(tabId, { kind: "checking", url: page.url });
  let state;
  try {
    const body = lookupBody(page);
    const payload = await callHelper("/v1/lookup", { method: "POST", body, timeoutMs: LOOKUP_MS, settings });
    state = { kind: "result", url: page.url, payload };
  } catch (err) {
    state = { kind: "error", url: page.url, error: plainError(err) };
  }
  await checking;
  return newest.get(tabId) === seq ? state : null;
}

async function lookup(tabId, page) {
  const state = await ask(tabId, page);
  return state && settle(tabId, page, state);
}

// The content script, on its own: an article page (with its HTML). Answers the view
// of its on-page badge.
export async function lookUpPage(tabId, { url, html }) {
  const settings = await getSettings();
  if (settings.sitesOff.includes(siteOf(url))) {
    await markTab(tabId, "site_off", url);
    return { view: null };
  }
  if (!contentMayLookUp(tabId)) {
    await markTab(tabId, "held", url);
    return { view: null };
  }
  const state = await ask(tabId, { url, html }, settings);
  if (!state) return { view: null };
  // The page's badge and the tab's state (toolbar, popup) at the same time.
  const [view] = await Promise.all([viewFor(state, settings), settle(tabId, { url, html }, state)]);
  return { view };
}

// The content script's word on its page without a lookup (not an article, or changed
// too often): a lookup still under way for the tab is no longer wanted.
export async function markTab(tabId, kind, url) {
  supersede(tabId);
  await setTabState(tabId, { kind, url });
}

// The user asked (toolbar button, Retry, "Check this page"): look the page up even if
// it has no scholarly metadata or the site is switched off.
export async function checkTab(tabId) {
  const tab = await chrome.tabs.get(tabId);
  let page = null;
  try {
    // In the content scripts' world of the page, where content/main.js defined it.
    const [done] = await chrome.scripting.executeScript({
      target: { tabId, frameIds: [0] },
      func: () => globalThis.oahelper?.collect?.() ?? null,
    });
    page = done?.result ?? null;
  } catch {
    page = null; // a page the extension may not script: a browser page, a PDF viewer
  }
  if (!page?.url) {
    if (!siteOf(tab.url ?? "")) {
      return setTabState(tabId, { kind: "unsupported", url: tab.url ?? "" });
    }
    // No content script here (the tab was open before the extension was installed,
    // or the page is a PDF): the helper fetches the URL itself.
    page = { url: tab.url };
  }
  const state = await lookup(tabId, page);
  if (state) await showOnPage(tabId, state);
  return state;
}

// What the popup and the references page are told about a tab.
export async function tabReport(tabId) {
  const [tab, state, settings] = await Promise.all([
    chrome.tabs.get(tabId).catch(() => null),
    getTabState(tabId),
    getSettings(),
  ]);
  const url = tab?.url ?? "";
  const site = siteOf(url);
  return {
    tabId,
    url,
    site,
    // A state left over from the page before (its URL differs) is no state at all.
    state: state && state.url === url ? state : null,
    port: settings.port,
    paired: Boolean(settings.token),
    badgeEnabled: settings.badgeEnabled,
    siteOff: Boolean(site && settings.sitesOff.includes(site)),
  };
}

// Popup: what the user typed in "Title, DOI or reference", whatever tab is open.
export async function lookUpQuery(raw) {
  const query = typeof raw === "string" ? raw.trim().slice(0, 2000) : "";
  if (!query) return { state: { kind: "error", error: { kind: "failed", message: "Type a title, DOI or reference first.", detail: {} } } };
  try {
    const payload = await callHelper("/v1/lookup", { method: "POST", body: { query }, timeoutMs: LOOKUP_MS });
    return { state: { kind: "result", payload } };
  } catch (err) {
    return { state: { kind: "error", error: plainError(err) } };
  }
}

// A closed tab: nothing of it is kept.
export async function forgetTab(tabId) {
  stopFollowUp(tabId);
  newest.delete(tabId);
  forgetContentLookups(tabId);
  await forgetTabState(tabId);
}
