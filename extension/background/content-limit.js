// Per tab, when the content script's lookups ran (ms): a backstop for the content
// script's own limit (content/main.js), in case a page's renderer is compromised and
// sends what it likes. Kept in memory: a service worker that restarts forgets it.

const CONTENT_LOOKUPS = 10;
const CONTENT_WINDOW_MS = 60_000;
const contentLookups = new Map();

export function contentMayLookUp(tabId) {
  const now = Date.now();
  const recent = (contentLookups.get(tabId) ?? []).filter((t) => t > now - CONTENT_WINDOW_MS);
  const allowed = recent.length < CONTENT_LOOKUPS;
  if (allowed) recent.push(now);
  contentLookups.set(tabId, recent);
  return allowed;
}

export function forgetContentLookups(tabId) {
  contentLookups.delete(tabId);
}
