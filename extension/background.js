// The service worker (Chrome) / background script (Firefox): the only part of the
// extension that talks to the helper, through callHelper() in lib/helper-client.js.
// Content scripts, the popup and the options page send it messages; see the
// `handlers` table below for the whole protocol.

import { callHelper, checkHealth, forgetHealth, HelperError, LOOKUP_MS, streamHelper } from "./lib/helper-client.js";
import { getSettings, setSettings, siteOf } from "./lib/settings.js";
import { clearTabState, forgetTabState, getTabState, setTabState } from "./lib/tab-state.js";
import { badgeView } from "./lib/describe.js";
import "./lib/messages.js";

const { MSG, BATCH_PORT, sendToTab } = globalThis.oahelper.messages;

// Per tab, the number of the newest lookup: an older answer arriving late (the user
// moved on to another article in a single-page site) must not overwrite a newer one.
const newest = new Map();

function plainError(err) {
  if (err instanceof HelperError) return err.toJSON();
  return { kind: "failed", message: String(err?.message ?? err), detail: {} };
}

// The answer for a page, or null when a newer lookup for the tab superseded it. The
// "checking" state is written while the helper works, not before: the badge waits for
// nothing but the answer.
async function ask(tabId, page, settings = undefined) {
  const seq = (newest.get(tabId) ?? 0) + 1;
  newest.set(tabId, seq);
  const checking = setTabState(tabId, { kind: "checking", url: page.url });
  let state;
  try {
    const body = page.html ? { url: page.url, html: page.html } : { url: page.url };
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
  return state && setTabState(tabId, state);
}

// The on-page badge for a state, unless the user turned badges off (everywhere or on
// this site).
async function viewFor(state, settings = undefined) {
  if (!state) return null;
  const { badgeEnabled, sitesOff } = settings ?? await getSettings();
  if (!badgeEnabled || sitesOff.includes(siteOf(state.url))) return null;
  return badgeView(state);
}

async function showOnPage(tabId, state) {
  try {
    await sendToTab(tabId, MSG.SHOW, { view: await viewFor(state) });
  } catch {
    // No content script in that tab (a browser page, a PDF): the toolbar says it all.
  }
}

// The user asked (toolbar button, Retry, "Check this page"): look the page up even if
// it has no scholarly metadata or the site is switched off.
async function checkTab(tabId) {
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

async function tabReport(tabId) {
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

const PLATFORMS = { linux: "Linux", mac: "macOS", win: "Windows", cros: "ChromeOS", android: "Android", openbsd: "OpenBSD" };

// How `oahelper clients list` will name this browser: "Chromium 156 on Linux".
async function clientName() {
  let browser = "Browser";
  if (chrome.runtime.getBrowserInfo) {
    const info = await chrome.runtime.getBrowserInfo();
    browser = `${info.name} ${info.version.split(".")[0]}`;
  } else {
    const brands = navigator.userAgentData?.brands ?? [];
    const known = ["Google Chrome", "Microsoft Edge", "Brave", "Opera", "Vivaldi", "Chromium"];
    const brand = known.map((k) => brands.find((b) => b.brand === k)).find(Boolean)
      ?? brands.find((b) => !/not.a.brand/i.test(b.brand));
    if (brand) browser = `${brand.brand} ${brand.version}`;
  }
  const { os } = await chrome.runtime.getPlatformInfo();
  return `${browser} on ${PLATFORMS[os] ?? os}`;
}

// What people type: "abcd efgh", "ABCDEFGH", " ABCD-EFGH ".
export function normaliseCode(raw) {
  const code = String(raw ?? "").toUpperCase().replace(/[\s_]+/g, "");
  return /^[A-Z0-9]{8}$/.test(code) ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

async function pair(rawCode) {
  const code = normaliseCode(rawCode);
  if (!code) {
    return { ok: false, error: { kind: "input", message: "Type the code that `oahelper pair` printed." } };
  }
  try {
    const client = await clientName();
    const answer = await callHelper("/v1/pair", { method: "POST", auth: false, body: { code, client } });
    if (typeof answer.token !== "string" || !answer.token) {
      throw new HelperError("failed", "The helper's answer had no token.");
    }
    await setSettings({ token: answer.token, client: answer.client ?? client });
    return { ok: true, client: answer.client ?? client };
  } catch (err) {
    const error = plainError(err);
    if (error.detail?.code === "pair_code_invalid" || (error.kind === "not_paired" && error.detail?.status === 401)) {
      error.kind = "pair_code_invalid";
      error.message = "That code is not valid: it is mistyped, expired (codes last 2 minutes) or already used. Run `oahelper pair` again for a new one.";
    }
    return { ok: false, error };
  }
}

async function helperStatus() {
  const { port, token, client } = await getSettings();
  forgetHealth();
  const out = { port, paired: Boolean(token), client, health: null, status: null, error: null };
  try {
    out.health = await checkHealth(port);
    out.status = await callHelper("/v1/status");
  } catch (err) {
    out.error = plainError(err);
  }
  return out;
}

// Per tab, when the content script's lookups ran (ms): a backstop for the content
// script's own limit (content/main.js), in case a page's renderer is compromised and
// sends what it likes. Kept in memory: a service worker that restarts forgets it.
const CONTENT_LOOKUPS = 10;
const CONTENT_WINDOW_MS = 60_000;
const contentLookups = new Map();

function contentMayLookUp(tabId) {
  const now = Date.now();
  const recent = (contentLookups.get(tabId) ?? []).filter((t) => t > now - CONTENT_WINDOW_MS);
  const allowed = recent.length < CONTENT_LOOKUPS;
  if (allowed) recent.push(now);
  contentLookups.set(tabId, recent);
  return allowed;
}

// Who may send each message. A content script runs inside a web page, so it may only
// speak of its own tab (the browser's sender.tab.id, never an id it names) and only in
// the page's top frame; everything else comes from the extension's own pages (the
// popup and the options page, also when they are opened as a tab).
const FROM_CONTENT = "content script";
const FROM_EXTENSION = "extension page";

function senderKind(sender) {
  if (sender.id !== chrome.runtime.id) return null;
  if (sender.url?.startsWith(chrome.runtime.getURL(""))) return FROM_EXTENSION;
  if (sender.tab?.id !== undefined && sender.frameId === 0) return FROM_CONTENT;
  return null;
}

const handlers = {
  // Content script, on its own: an article page (with its HTML) or not an article.
  [MSG.PAGE]: [FROM_CONTENT, async (msg, sender) => {
    const tabId = sender.tab.id;
    const settings = await getSettings();
    if (settings.sitesOff.includes(siteOf(msg.url))) {
      await setTabState(tabId, { kind: "site_off", url: msg.url });
      return { view: null };
    }
    if (!contentMayLookUp(tabId)) {
      await setTabState(tabId, { kind: "held", url: msg.url });
      return { view: null };
    }
    const state = await ask(tabId, { url: msg.url, html: msg.html }, settings);
    if (!state) return { view: null };
    // The page's badge and the tab's state (toolbar, popup) at the same time.
    const [view] = await Promise.all([viewFor(state, settings), setTabState(tabId, state)]);
    return { view };
  }],
  [MSG.NOT_ARTICLE]: [FROM_CONTENT, async (msg, sender) => {
    const tabId = sender.tab.id;
    newest.set(tabId, (newest.get(tabId) ?? 0) + 1);
    await setTabState(tabId, { kind: "not_article", url: msg.url });
    return {};
  }],
  // The page changed its article more often than it may be checked on its own.
  [MSG.HELD]: [FROM_CONTENT, async (msg, sender) => {
    const tabId = sender.tab.id;
    newest.set(tabId, (newest.get(tabId) ?? 0) + 1);
    await setTabState(tabId, { kind: "held", url: msg.url });
    return {};
  }],
  // Popup.
  [MSG.TAB_REPORT]: [FROM_EXTENSION, (msg) => tabReport(msg.tabId)],
  [MSG.CHECK]: [FROM_EXTENSION, async (msg) => {
    await checkTab(msg.tabId);
    return tabReport(msg.tabId);
  }],
  // Popup: what the user typed in "Title, DOI or reference".
  [MSG.LOOKUP_QUERY]: [FROM_EXTENSION, async (msg) => {
    const query = typeof msg.query === "string" ? msg.query.trim().slice(0, 2000) : "";
    if (!query) return { state: { kind: "error", error: { kind: "failed", message: "Type a title, DOI or reference first.", detail: {} } } };
    try {
      const payload = await callHelper("/v1/lookup", { method: "POST", body: { query }, timeoutMs: LOOKUP_MS });
      return { state: { kind: "result", payload } };
    } catch (err) {
      return { state: { kind: "error", error: plainError(err) } };
    }
  }],
  // Options page.
  [MSG.PAIR]: [FROM_EXTENSION, (msg) => pair(msg.code)],
  [MSG.UNPAIR]: [FROM_EXTENSION, async () => {
    await setSettings({ token: null, client: null });
    return { ok: true };
  }],
  [MSG.HELPER_STATUS]: [FROM_EXTENSION, () => helperStatus()],
};

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  // Only our own pages and content scripts can reach this listener (no
  // externally_connectable), but a content script lives in a web page's process.
  const entry = Object.hasOwn(handlers, msg?.type) ? handlers[msg.type] : null;
  if (!entry) return false;
  const [allowed, handler] = entry;
  if (senderKind(sender) !== allowed) {
    sendResponse({ error: { kind: "refused", message: `'${msg.type}' is accepted from the ${allowed} only.`, detail: {} } });
    return false;
  }
  Promise.resolve(handler(msg, sender)).then(sendResponse, (err) => sendResponse({ error: plainError(err) }));
  return true; // answer asynchronously
});

// The references page checks the references of a tab's article: it names the tab, and
// gets each answer over its port as the helper streams it (/v1/batch). The list sent
// is the one the helper read from the page, kept in the tab's state, not the page's.
chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== BATCH_PORT) return;
  // It names any tab, so it is for the extension's own pages only (see senderKind).
  if (senderKind(port.sender ?? {}) !== FROM_EXTENSION) {
    port.disconnect();
    return;
  }
  const stop = new AbortController();
  port.onDisconnect.addListener(() => stop.abort());
  port.onMessage.addListener(async (msg) => {
    if (msg?.type !== MSG.CHECK_REFERENCES) return;
    const state = await getTabState(msg.tabId);
    const items = state?.kind === "result" ? state.payload?.references ?? [] : [];
    try {
      if (!items.length) throw new HelperError("failed", "This tab has no list of references to check.");
      await streamHelper("/v1/batch", {
        body: { items },
        signal: stop.signal,
        onLine: (line) => port.postMessage(line.done ? { done: line } : { item: line }),
      });
    } catch (err) {
      if (!stop.signal.aborted) port.postMessage({ error: plainError(err) });
    }
  });
});

chrome.tabs.onUpdated.addListener((tabId, change) => {
  // A new document (or a new URL in the same one): the old answer no longer applies.
  if (change.status === "loading" || change.url) {
    clearTabState(tabId);
  }
});

chrome.tabs.onRemoved.addListener((tabId) => {
  newest.delete(tabId);
  contentLookups.delete(tabId);
  forgetTabState(tabId);
});

chrome.storage.onChanged.addListener(async (changes, area) => {
  if (area !== "local") return;
  if (changes.port || changes.token) forgetHealth();
  if (changes.badgeEnabled || changes.sitesOff) {
    // Show or hide the on-page badge in open tabs at once.
    for (const tab of await chrome.tabs.query({})) {
      const state = await getTabState(tab.id);
      if (state?.kind === "result") await showOnPage(tab.id, state);
    }
  }
});
