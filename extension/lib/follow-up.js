// Asking the helper again while its answer says work is still going on (`pending`:
// link checks still running, a busy source asked in the background). The helper
// finishes that work into its cache, so the same request asked a moment later gets
// the finished answer. The schedule and the loop are here, once: the service worker
// runs it for a tab's page (background/follow-ups.js), the popup for what was typed.

import { isPending } from "./describe.js";

// Backing off: 1.5 s, 3 s, 6 s, then 8 s and 10 s; five tries, within 30 s.
export const FOLLOW_UP_DELAYS_MS = Object.freeze([1500, 3000, 6000, 8000, 10000]);

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

// While `payload` is pending: wait, `ask()` for the new payload (a failure leaves the
// last one standing), `onAnswer(payload)` to show it. Stops when nothing is pending,
// when `signal` aborts, or when the tries are spent. Resolves to {payload, finished}
// (finished: nothing left pending), or null when stopped by the signal.
export async function followUp(payload, { ask, onAnswer, signal, delays = FOLLOW_UP_DELAYS_MS }) {
  let last = payload;
  for (const delay of delays) {
    if (!isPending(last)) break;
    await pause(delay, signal);
    if (signal.aborted) return null;
    let next = null;
    try {
      next = await ask();
    } catch {
      next = null; // the helper is busy or gone for a moment: the next try may do
    }
    if (signal.aborted) return null;
    if (!next) continue;
    last = next;
    await onAnswer(last);
  }
  return signal.aborted ? null : { payload: last, finished: !isPending(last) };
}
