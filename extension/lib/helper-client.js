// The one funnel: every request the extension makes to the helper goes through
// callHelper() here, and only the service worker imports this file. Content scripts
// never talk to the helper (page CORS and the browser's local-network rules would
// apply to them, and a page must never get near the token); the popup and the options
// page ask the service worker by message.
//
// callHelper either returns the parsed JSON answer or throws a HelperError whose
// `kind` tells apart the situations the user must handle differently:
//   not_running    nothing answers on the port (or it timed out)
//   not_oahelper   something answers, but it is not oahelper
//   wrong_version  oahelper speaks another API version (detail.direction: too_old | too_new)
//   not_paired     no token, or the helper does not know it (401)
//   refused        the helper refused the request (403: Host/Origin not allowed)
//   rate_limited   too many tries (429), e.g. pairing codes
//   failed         any other error answer, with the helper's own code and message

import { getSettings } from "./settings.js";

export const API_VERSION = 1;

// Short on purpose: the helper is on this machine, so a slow answer means it is stuck.
// Lookups get the helper's own source deadline (8 s by default) plus slack.
const QUICK_MS = 3000;
export const LOOKUP_MS = 12000;
// A page's references (up to 500, 8 at a time): the whole stream, however long it takes.
export const BATCH_MS = 5 * 60 * 1000;
// How long a successful health check is trusted before the next call repeats it.
const HEALTH_TTL_MS = 15000;

export class HelperError extends Error {
  constructor(kind, message, detail = {}) {
    super(message);
    this.name = "HelperError";
    this.kind = kind;
    this.detail = detail;
  }

  toJSON() {
    return { kind: this.kind, message: this.message, detail: this.detail };
  }
}

// Any error as a message can carry it to an extension page: a HelperError's fields,
// anything else "failed".
export function plainError(err) {
  if (err instanceof HelperError) return err.toJSON();
  return { kind: "failed", message: String(err?.message ?? err), detail: {} };
}

let health = null; // {port, at, info}: the last good health answer

export function forgetHealth() {
  health = null;
}

// One HTTP exchange with the helper, with a timeout. Network failures and timeouts
// both mean "nothing usable is listening" and become not_running.
async function exchange(port, path, { method = "GET", body, token, timeoutMs = QUICK_MS, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers,
      // A Blob, not a string: Chromium uploads a string body from a service worker
      // several times slower (measured: 1.2 MB in ~350 ms as a string, ~150 ms as a Blob).
      body: body === undefined ? undefined : new Blob([JSON.stringify(body)], { type: "application/json" }),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (err) {
    forgetHealth();
    const timedOut = err?.name === "TimeoutError" || err?.name === "AbortError";
    throw new HelperError(
      "not_running",
      timedOut
        ? `The helper on port ${port} did not answer within ${Math.round(timeoutMs / 1000)} s.`
        : `Nothing answers on port ${port}: the helper is not running.`,
      { port, timedOut },
    );
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

// GET /v1/health: is it oahelper, and does it speak our API version?
export async function checkHealth(port) {
  if (health && health.port === port && Date.now() - health.at < HEALTH_TTL_MS) {
    return health.info;
  }
  const response = await exchange(port, "/v1/health");
  const info = await readJson(response);
  if (!response.ok || info?.service !== "oahelper") {
    throw new HelperError(
      "not_oahelper",
      `Something is listening on port ${port}, but it is not the oahelper helper.`,
      { port, status: response.status },
    );
  }
  if (info.api !== API_VERSION) {
    const theirs = Number(info.api) || 0;
    const direction = theirs < API_VERSION ? "too_old" : "too_new";
    throw new HelperError(
      "wrong_version",
      direction === "too_old"
        ? `The helper (version ${info.version}) is too old for this extension: it speaks API ${theirs}, the extension needs API ${API_VERSION}.`
        : `The helper (version ${info.version}) is newer than this extension: it speaks API ${theirs}, the extension knows API ${API_VERSION}.`,
      { port, direction, helperApi: theirs, helperVersion: info.version },
    );
  }
  health = { port, at: Date.now(), info };
  return info;
}

// The funnel. `auth: false` for /v1/pair (and health), everything else sends the token.
// `settings`: the caller's fresh getSettings(), to save reading them again.
export async function callHelper(path, { method = "GET", body, auth = true, timeoutMs, port, settings } = {}) {
  const { response, usePort, info } = await send(path, { method, body, auth, timeoutMs, port, settings });
  const data = await readJson(response);
  if (response.ok) {
    if (data === null) {
      throw new HelperError("failed", "The helper sent an answer that is not JSON.", { status: response.status });
    }
    return data;
  }
  throw answerError(response, data, usePort, info);
}

// The same funnel for an answer streamed as NDJSON (/v1/batch): `onLine` gets each
// line's object as it arrives. Errors before the stream are callHelper's.
export async function streamHelper(path, { body, onLine, timeoutMs = BATCH_MS, signal } = {}) {
  const { response, usePort, info } = await send(path, { method: "POST", body, auth: true, timeoutMs, signal });
  if (!response.ok) throw answerError(response, await readJson(response), usePort, info);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (err) {
      throw new HelperError("failed", `The helper's answer was cut short (${err?.name ?? err}).`, { port: usePort });
    }
    if (chunk.done) break;
    buffer += chunk.value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
}

async function send(path, { method, body, auth, timeoutMs, port, signal, settings: given }) {
  const settings = given ?? await getSettings();
  const usePort = port ?? settings.port;
  // Health first: "not running" and "wrong version" matter before "not paired",
  // since pairing needs a running helper of the right version.
  const info = await checkHealth(usePort);
  if (auth && !settings.token) {
    throw new HelperError("not_paired", "This browser is not paired with the helper yet.", { port: usePort });
  }
  const response = await exchange(usePort, path, {
    method, body, timeoutMs, signal, token: auth ? settings.token : undefined,
  });
  return { response, usePort, info };
}

function answerError(response, data, usePort, info) {
  const error = data?.error ?? {};
  const detail = { port: usePort, status: response.status, code: error.code, helperVersion: info.version };
  const said = error.message ? ` It said: ${error.message}` : "";
  switch (response.status) {
    case 401:
      return new HelperError("not_paired", `The helper does not know this browser (not paired, or the pairing was revoked).${said}`, detail);
    case 403:
      return new HelperError("refused", `The helper refused the request.${said}`, detail);
    case 429:
      return new HelperError("rate_limited", `Too many tries; wait a minute and try again.${said}`, detail);
    default:
      return new HelperError("failed", error.message || `The helper answered HTTP ${response.status}.`, detail);
  }
}
