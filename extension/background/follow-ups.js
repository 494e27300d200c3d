// A tab whose answer is still pending (link checks running, a busy source) is asked
// about again, backing off (lib/follow-up.js), and each new answer becomes the tab's
// state (toolbar, popup) and its on-page badge. These are the extension's own asks,
// not the page's: they do not count against the content script's limit
// (content-limit.js). One loop per tab: a new lookup for the tab, a navigation and
// closing the tab stop it (stopFollowUp). When the tries are spent with work left,
// the last answer stays, marked `unfinished`.

import { showOnPage } from "./page-badge.js";
import { isPending } from "../lib/describe.js";
import { followUp } from "../lib/follow-up.js";
import { callHelper, LOOKUP_MS } from "../lib/helper-client.js";
import { setTabState } from "../lib/tab-state.js";

const loops = new Map(); // tabId -> the AbortController of its loop

export function stopFollowUp(tabId) {
  loops.get(tabId)?.abort();
  loops.delete(tabId);
}

// Does the tab still show the page the answer is about?
async function stillShows(tabId, url) {
  const tab = await chrome.tabs.get(tabId).catch(() => null);
  return tab?.url === url;
}

// `body`: the lookup's own request, asked again as it was; `state`: its answer.
export function followUpTab(tabId, body, state) {
  stopFollowUp(tabId);
  if (state?.kind !== "result" || !isPending(state.payload)) return;
  const stop = new AbortController();
  loops.set(tabId, stop);
  const show = async (next) => {
    if (!(await stillShows(tabId, state.url))) stop.abort();
    if (stop.signal.aborted) return;
    const written = await setTabState(tabId, next);
    if (!stop.signal.aborted) await showOnPage(tabId, written);
  };
  followUp(state.payload, {
    signal: stop.signal,
    ask: () => callHelper("/v1/lookup", { method: "POST", body, timeoutMs: LOOKUP_MS }),
    onAnswer: (payload) => show({ kind: "result", url: state.url, payload }),
  }).then(async (done) => {
    if (done && !done.finished) await show({ kind: "result", url: state.url, payload: done.payload, unfinished: true });
  }).catch(() => {
    // The tab went away under the last write: nothing left to show it on.
  }).finally(() => {
    if (loops.get(tabId) === stop) loops.delete(tabId);
  });
}
