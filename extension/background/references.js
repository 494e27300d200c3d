// The references page checks the references of a tab's article: it names the tab, and
// gets each answer over its port as the helper streams it (/v1/batch). The list sent
// is the one the helper read from the page, kept in the tab's state, not the page's.
// router.js hands over only ports from the extension's own pages.

import { HelperError, plainError, streamHelper } from "../lib/helper-client.js";
import "../lib/messages.js";
import { getTabState } from "../lib/tab-state.js";

const { MSG } = globalThis.oahelper.messages;

export function checkReferences(port) {
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
}
