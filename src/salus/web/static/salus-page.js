// What every Salus page shares: the explorer (/explorer/), the certificate verification
// page (/verify/), the outbreak dashboard (/dashboard/) and the mutual-aid pages (/aid/).
// Served at /explorer/salus-page.js, the way /explorer/base.css is; each page loads it
// before its own script:
//
//   <script src="/explorer/salus-page.js" defer></script>
//   <script src="page.js" defer></script>
//
// and takes what it needs from one frozen namespace:
//
//   const { el, api, ApiError, problem } = window.Salus;
//
// Rules every helper keeps:
// - DOM is built with createElement and textContent only, never innerHTML, so ledger data
//   (reasons, names, notes, posts) can never become markup;
// - nothing is fetched from another origin (the pages' Content-Security-Policy forbids it),
//   and nothing here runs inline, so `script-src 'self'` is enough;
// - only logic that is really the same on several pages lives here: each page's own
//   rendering (step names, badges, money, charts' data) stays in its own script.
"use strict";

(() => {
  // -- building the DOM ---------------------------------------------------------------

  // el("a", { href, class, testid: "tx-link", text, onclick }, ...children): an element.
  // Attributes whose value is undefined, null or false are left out, and true gives an
  // empty attribute (`disabled: true`). `text` sets textContent, `testid` data-testid,
  // `on<event>` adds a listener. Children may be nodes, strings, numbers or arrays of them;
  // undefined, null and false are skipped, everything else becomes a text node.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "testid") node.dataset.testid = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // The element whose data-testid is `testid`, inside `root` (default: the document).
  function byTestId(testid, root) {
    return (root || document).querySelector(`[data-testid="${testid}"]`);
  }

  // -- the node's JSON API ------------------------------------------------------------

  // An error answer of the node's API. Every error body is
  // {"error": {"code", "message"}}; an answer without one (a proxy's page, say) gets the
  // code `http_<status>` and the status text as its message.
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // GET (or, with `options`, anything fetch can send) a JSON answer from this node.
  // Resolves to the parsed body (null when it is not JSON); rejects with an ApiError on
  // any status other than 2xx, and with fetch's own error when the node is unreachable.
  // `options.headers` replaces the default `Accept: application/json` as a whole.
  async function api(path, options) {
    const response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = body && body.error ? body.error : { code: `http_${response.status}`, message: response.statusText };
      throw new ApiError(response.status, error.code, error.message);
    }
    return body;
  }

  // POST `value` as JSON to `path`; the JSON answer, as api() gives it.
  function postJson(path, value) {
    return api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(value),
    });
  }

  // A failure to show in place of what could not be loaded: the API's message and code,
  // or the message of any other error (a network failure, say).
  function problem(error) {
    const text = error instanceof ApiError ? `${error.message} (${error.code})` : String(error && error.message ? error.message : error);
    return el("p", { class: "problem", role: "alert", testid: "problem" }, text);
  }

  // -- showing ledger values ----------------------------------------------------------

  // A long hex string or did:key cut to its first `keep` and last 6 characters; anything
  // short enough (or not a string) is returned as it is.
  function short(text, keep = 10) {
    if (typeof text !== "string" || text.length <= keep * 2 + 1) return text;
    return `${text.slice(0, keep)}…${text.slice(-6)}`;
  }

  // A hash, id or DID in full, in the page's hash style (monospace, wrapping anywhere).
  function hash(value, testid) {
    return el("code", { class: "hash", title: value, testid }, value);
  }

  // The same cut short (see short()), with the whole value as its tooltip.
  function shortHash(value, keep, testid) {
    return el("code", { class: "hash", title: value, testid }, short(value, keep));
  }

  // A <time> element for a block time in Unix milliseconds, shown in the reader's locale;
  // `title` defaults to the ISO 8601 time. A missing time shows as "—".
  function time(ms, title) {
    if (typeof ms !== "number") return "—";
    const date = new Date(ms);
    return el("time", { datetime: date.toISOString(), title: title === undefined ? date.toISOString() : title }, date.toLocaleString());
  }

  // A definition list of [label, value, testid] rows (a falsy row is skipped), each row a
  // div.field so the page's CSS can lay the list out as a grid.
  function fields(rows, testid) {
    const list = el("dl", { class: "fields", testid });
    for (const row of rows) {
      if (!row) continue;
      const [label, value, id] = row;
      list.append(el("div", { class: "field" }, el("dt", {}, label), el("dd", { testid: id }, value)));
    }
    return list;
  }

  // -- an offline verifier's verdict --------------------------------------------------
  // The core verifier's report (POST /v1/verify, /v1/outbreak/verify) is
  // {valid, step, reason, steps: [{step, detail}], facts}: `step` is "done" when valid,
  // else the step that failed, and `reason` says why.

  // The class of a box holding a verdict: "verdict verdict-valid" or "verdict verdict-invalid".
  function verdictClass(result) {
    return `verdict ${result.valid ? "verdict-valid" : "verdict-invalid"}`;
  }

  // The verdict's two lines: "<label>: valid · step done", then the reason.
  function verdictLines(result, label) {
    return [
      el("p", { class: "verdict-line" },
        el("span", { class: "muted" }, `${label}: `),
        el("strong", { testid: "verdict" }, result.valid ? "valid" : "invalid"),
        " · step ",
        el("code", { testid: "verdict-step" }, result.step)),
      el("p", { testid: "verdict-reason" }, result.reason),
    ];
  }

  // A box (div.verdict) with the verdict's lines.
  function verdictBox(result, label) {
    return el("div", { class: verdictClass(result) }, ...verdictLines(result, label));
  }

  const STEP_MARKS = { passed: "✓", failed: "✗", skipped: "–" };

  // One step of a verification as li.step.<result>: a mark (✓ ✗ –), the step's name as
  // the page calls it, with `withResult` the result as a word, and the detail (what was
  // checked, or why it failed). `result` is "passed", "failed" or "skipped".
  function stepItem({ step, result, name, detail, withResult = false }) {
    return el(
      "li",
      { class: `step ${result}`, testid: "step", "data-step": step, "data-result": result },
      el("span", { class: "mark", "aria-hidden": "true" }, STEP_MARKS[result]),
      el("span", { class: "step-name" }, name),
      withResult ? el("span", { class: "step-result", testid: "step-result" }, result) : null,
      el("span", { class: "step-detail" }, detail),
    );
  }

  // -- charts -------------------------------------------------------------------------

  // The page's colour tokens (base.css: light or dark scheme) for a uPlot chart, with
  // the light scheme's values where a token is missing, and an axis style built on them.
  function chartColours() {
    const css = getComputedStyle(document.documentElement);
    const ink = css.getPropertyValue("--text").trim() || "#1d2330";
    const accent = css.getPropertyValue("--accent").trim() || "#0b6e6e";
    const rule = css.getPropertyValue("--line").trim() || "#dde1e8";
    const axis = { stroke: ink, grid: { stroke: rule, width: 1 }, ticks: { stroke: rule, width: 1 } };
    return { ink, accent, rule, axis };
  }

  window.Salus = Object.freeze({
    el,
    byTestId,
    ApiError,
    api,
    postJson,
    problem,
    short,
    hash,
    shortHash,
    time,
    fields,
    verdictClass,
    verdictLines,
    verdictBox,
    stepItem,
    chartColours,
  });
})();
