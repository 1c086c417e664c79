/* Salus mutual-aid pages: notice board, sharing periods, member statements, rules, claim states.
 *
 * Everything comes from this node's API (/v1/mutual-aid/...); nothing is loaded from another
 * origin. The DOM is built with createElement and textContent only (no innerHTML), so text
 * from the ledger (reasons, notes) can never become markup. Views are chosen by the URL
 * fragment: #board, #claim=3, #periods, #statement=did:key:..., #rules, #diagram, each
 * optionally followed by &plan=<id>.
 */
(function () {
  "use strict";

  const API = "/v1/mutual-aid";
  const VIEWS = ["board", "periods", "statement", "rules", "diagram"];
  const LIVE = new Set(["board", "periods", "rules"]);
  const state = { plans: [], plan: null, view: "board", arg: null, height: null, chart: null };

  // -- small helpers ---------------------------------------------------------------------

  // Shared with the other Salus pages: /explorer/salus-page.js, loaded before this script.
  const { el, api, chartColours } = window.Salus;
  const $ = window.Salus.byTestId;

  function money(amount, record) {
    const units = record.minor_units;
    const negative = amount < 0;
    const digits = String(Math.abs(amount)).padStart(units + 1, "0");
    const whole = digits.slice(0, digits.length - units).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const fraction = units ? `.${digits.slice(digits.length - units)}` : "";
    return `${negative ? "-" : ""}${whole}${fraction} ${record.currency}`;
  }

  function when(ms) {
    if (ms === null || ms === undefined) return "—";
    return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function duration(ms) {
    const units = [["day", 86400000], ["hour", 3600000], ["minute", 60000], ["second", 1000]];
    for (const [name, size] of units) {
      if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms === size ? "" : "s"}`;
    }
    return `${ms} ms`;
  }

  function badge(status) {
    return el("span", { class: `badge ${status}`, testid: "claim-status", text: status.replace("_", " ") });
  }

  function showError(error) {
    const box = $("error");
    if (!error) {
      box.hidden = true;
      return;
    }
    box.textContent = error.message || String(error);
    box.hidden = false;
  }

  function planPath(path) {
    return `${API}/plans/${encodeURIComponent(state.plan)}${path || ""}`;
  }

  // -- routing ---------------------------------------------------------------------------

  function parseHash() {
    const parts = decodeURIComponent(location.hash.slice(1)).split("&").filter(Boolean);
    let view = "board";
    let arg = null;
    let plan = null;
    for (const part of parts) {
      const index = part.indexOf("=");
      const key = index < 0 ? part : part.slice(0, index);
      const value = index < 0 ? null : part.slice(index + 1);
      if (key === "plan") plan = value;
      else if (key === "claim") {
        view = "board";
        arg = value;
      } else if (VIEWS.includes(key)) {
        view = key;
        arg = value;
      }
    }
    return { view, arg, plan };
  }

  function link(view, arg) {
    const main = arg === null || arg === undefined ? view : `${view}=${arg}`;
    return `#${main}${state.plans.length > 1 ? `&plan=${state.plan}` : ""}`;
  }

  async function route() {
    const { view, arg, plan } = parseHash();
    if (plan && plan !== state.plan && state.plans.some((p) => p.plan === plan)) {
      state.plan = plan;
      $("plan").value = plan;
    }
    state.view = view;
    state.arg = arg;
    for (const name of VIEWS) {
      $(`view-${name}`).hidden = name !== view;
      const tab = $(`tab-${name}`);
      if (name === view) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    await render();
  }

  async function render() {
    showError(null);
    if (!state.plan) {
      if (state.view === "diagram") await renderDiagram();
      else showError(new Error("This ledger has no mutual-aid plan yet."));
      return;
    }
    try {
      if (state.view === "board") await renderBoard();
      else if (state.view === "periods") await renderPeriods();
      else if (state.view === "statement") await renderStatement();
      else if (state.view === "rules") await renderRules();
      else await renderDiagram();
    } catch (error) {
      showError(error);
    }
  }

  // -- the notice board ------------------------------------------------------------------

  function claimCard(claim, kind) {
    const deadline = kind === "jury"
      ? (claim.deadlines.reveal ? `seed reveal until ${when(claim.deadlines.reveal)}` : "")
      : (claim.notice_open ? `objections until ${when(claim.deadlines.notice)}` : `notice closed ${when(claim.deadlines.notice)}; waiting to be moved on`);
    const objections = claim.objection_list.map((o) =>
      el("li", { testid: "objection" }, el("strong", { text: `${o.objector}: ` }), el("span", { testid: "objection-reason", text: o.reason }), el("span", { class: "muted", text: ` (${when(o.time_ms)})` })));
    return el(
      "li",
      { class: `card ${kind}`, testid: kind === "jury" ? "jury-claim" : "notice-claim", "data-claim": claim.claim },
      el("div", { class: "card-head" },
        el("a", { class: "card-title", href: link("claim", claim.claim), text: `Claim ${claim.claim}` }),
        el("span", { testid: "claim-condition", text: `${claim.code} · ${claim.condition_name || claim.condition}` }),
        el("span", { class: "amount", text: money(claim.payout_amount, claim) }),
        claim.funding === "sponsor" ? el("span", { class: "badge", text: "sponsor-funded" }) : null,
        badge(claim.status)),
      el("div", { class: "deadline", testid: "deadline", text: deadline }),
      objections.length
        ? el("ol", { class: "objections", "aria-label": "Objections" }, objections)
        : el("p", { class: "muted", text: "No objection so far." }),
    );
  }

  async function renderBoard() {
    const board = await api(planPath("/notice-board"));
    const fill = (testid, claims, kind, empty) => {
      const list = $(testid);
      list.replaceChildren(...(claims.length ? claims.map((c) => claimCard(c, kind)) : [el("li", { class: "empty", text: empty })]));
    };
    fill("notice-list", board.in_notice, "notice", "No claim is in public notice.");
    fill("jury-list", board.in_jury_review, "jury", "No claim is before a jury.");
    $("investigation-count").textContent = `${board.in_investigation} claim(s) submitted or under investigation.`;
    const rows = board.outcomes.map((c) => el("tr", { testid: "outcome", "data-claim": c.claim },
      el("td", {}, el("a", { href: link("claim", c.claim), text: String(c.claim) })),
      el("td", { text: `${c.code} · ${c.condition_name || ""}` }),
      el("td", { class: "num", text: money(c.payout_amount, c) }),
      el("td", {}, badge(c.status)),
      el("td", { text: c.decision || "" })));
    $("outcomes").tBodies[0].replaceChildren(...rows);
    const detail = $("claim-detail");
    if (state.arg && /^\d+$/.test(state.arg)) await renderClaim(Number(state.arg), detail);
    else detail.hidden = true;
  }

  async function renderClaim(number, box) {
    const claim = await api(planPath(`/claims/${number}`));
    const history = claim.history.map((h) => el("li", { testid: "history-step", "data-status": h.status },
      el("div", {}, badge(h.status), " ", el("code", { text: h.action }), " by ", el("strong", { text: h.role }), h.by ? el("span", { class: "hash", text: ` ${h.by}` }) : null),
      el("div", { text: h.reason }),
      el("div", { class: "when", text: `${when(h.time_ms)} · block ${h.height}` })));
    const parts = [
      el("h3", { text: `Claim ${claim.claim}: ${claim.code} · ${claim.condition_name || claim.condition}` }),
      el("p", {}, badge(claim.status), ` ${money(claim.payout_amount, claim)} (claimed ${money(claim.amount, claim)}, cap ${money(claim.max_payout, claim)}), ${claim.funding}-funded; diagnosed ${claim.diagnosed_on}; ${claim.evidence_documents} evidence document(s) off the ledger.`),
      el("h4", { text: "History" }),
      el("ol", { class: "timeline", testid: "history" }, history),
    ];
    if (claim.objection_list.length) {
      parts.push(el("h4", { text: "Objections" }), el("ol", { class: "objections" }, claim.objection_list.map((o) =>
        el("li", { testid: "objection" }, el("strong", { text: `${o.objector}: ` }), o.reason, el("span", { class: "muted", text: ` (${when(o.time_ms)})` })))));
    }
    if (claim.findings) {
      parts.push(el("p", {}, el("strong", { text: "Findings: " }), `${claim.findings.supported ? "support" : "do not support"} the claim: ${claim.findings.reason}${claim.findings.late ? " (late)" : ""}`));
    }
    const panel = claim.jury.panel;
    if (panel) {
      const votes = panel.jurors.map((juror) => {
        const vote = panel.votes.find((v) => v.juror === juror);
        const silent = panel.outcome === "voting" ? " has not voted yet" : " did not vote (decided without this vote)";
        return el("li", { testid: "juror" }, el("span", { class: "hash", text: juror }), vote ? ` voted ${vote.vote}: ${vote.reason}` : silent);
      });
      parts.push(el("h4", { text: `Jury (panel ${panel.round}): ${panel.outcome}` }),
        el("p", { testid: "jury-tally", text: `${panel.approve} approve, ${panel.reject} reject; quorum ${panel.quorum}; voting until ${when(panel.deadline)}; seed from ${panel.seed_source}${panel.dropped.length ? `, without ${panel.dropped.join(", ")}` : ""}.` }),
        el("ul", { class: "votes" }, votes));
    }
    if (claim.payout) parts.push(el("p", { text: `Paid ${money(claim.payout.amount, claim)} at ${when(claim.payout.time_ms)} (block ${claim.payout.height}).` }));
    box.replaceChildren(...parts);
    box.hidden = false;
    box.scrollIntoView({ block: "start" });
  }

  // -- sharing periods ---------------------------------------------------------------------

  async function renderPeriods() {
    const [list, series] = await Promise.all([api(planPath("/periods?limit=500")), api(planPath("/periods/series"))]);
    const rows = list.periods.map((p) => el("tr", { testid: "period-row", "data-period": p.period },
      el("td", { text: String(p.period) }),
      el("td", { text: when(p.closed_ms) }),
      el("td", { text: [...p.claims.map((c) => String(c.claim)), ...p.sponsor_claims.map((c) => `${c.claim} (sponsor)`)].join(", ") || "none" }),
      el("td", { class: "num", text: money(p.payouts, p) }),
      el("td", { class: "num", text: money(p.fee, p) }),
      el("td", { class: "num", text: money(p.carry_in, p) }),
      el("td", { class: "num", text: money(p.charged, p) }),
      el("td", { class: "num", text: String(p.members) }),
      el("td", { class: "num", testid: "period-share", text: p.share_high !== p.share_low ? `${money(p.share_low, p)} / ${money(p.share_high, p)}` : money(p.share_low, p) }),
      el("td", { class: "muted", testid: "rounding", text: `${rounding(p)}${p.carry_out ? `; ${money(p.carry_out, p)} carried to the next period` : ""}` })));
    $("periods-table").tBodies[0].replaceChildren(...rows);
    const open = list.open_period;
    $("open-period").textContent = `Period ${open.period} is open until ${when(open.end_ms)}.`;
    drawChart(series);
  }

  function rounding(p) {
    if (!p.remainder) return `all ${p.members} members pay ${money(p.share_low, p)}`;
    return `${p.remainder} member(s) with index below ${p.remainder} pay ${money(p.share_high, p)}, the other ${p.members - p.remainder} pay ${money(p.share_low, p)}`;
  }

  function drawChart(series) {
    const box = $("share-chart");
    const note = $("chart-note");
    if (state.chart) {
      state.chart.destroy();
      state.chart = null;
    }
    box.replaceChildren();
    box.dataset.points = String(series.period.length);
    if (!series.period.length) {
      note.textContent = "No period has closed yet.";
      return;
    }
    const scale = 10 ** series.minor_units;
    const { ink, accent, axis } = chartColours();
    const fmt = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(series.minor_units)} ${series.currency}`);
    box.setAttribute("aria-label", `Per-member share in ${series.currency} for periods ${series.period[0]} to ${series.period[series.period.length - 1]}; the table below lists every figure`);
    state.chart = new uPlot(
      {
        width: Math.max(320, box.clientWidth || 800),
        height: 280,
        scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] } },
        axes: [
          { ...axis, label: "Period", splits: () => series.period, values: (u, ticks) => ticks.map((t) => String(t)) },
          { ...axis, size: 80, label: series.currency },
        ],
        series: [
          { label: "Period" },
          { label: "Share", stroke: accent, width: 2, points: { size: 8 }, value: (u, v) => fmt(v) },
          { label: "Share +1 unit", stroke: ink, width: 1, dash: [6, 4], points: { size: 5 }, value: (u, v) => fmt(v) },
        ],
      },
      [series.period, series.share_low.map((v) => v / scale), series.share_high.map((v) => v / scale)],
      box,
    );
    const last = series.period.length - 1;
    note.textContent = `${series.period.length} closed period(s); in the latest, ${series.members[last]} members shared ${(series.charged[last] / scale).toFixed(series.minor_units)} ${series.currency}.`;
  }

  // -- member statements --------------------------------------------------------------------

  async function renderStatement() {
    const box = $("statement");
    const input = $("member-did");
    if (state.arg && input.value !== state.arg) input.value = state.arg;
    if (!state.arg) {
      box.replaceChildren(el("p", { class: "muted", text: "Enter a member's did:key to see what it owes for each closed period, and why." }));
      return;
    }
    const data = await api(planPath(`/members/${encodeURIComponent(state.arg)}/statement`));
    const balance = data.balance;
    const record = data.statements[0] || { currency: "", minor_units: 0 };
    const summary = data.statements.length
      ? el("p", { testid: "balance" }, `Billed ${money(balance.billed, record)}, paid ${money(balance.paid, record)}, owes `, el("strong", { text: money(balance.outstanding, record) }), ".")
      : el("p", { testid: "balance", text: "No period has closed since this member joined: nothing is owed." });
    box.replaceChildren(summary, ...data.statements.map(statementPanel));
  }

  function statementPanel(s) {
    const lines = s.lines.map((line) => el("tr", { testid: "statement-line" },
      el("td", {}, el("a", { href: link("claim", line.claim), text: String(line.claim) })),
      el("td", { text: `${line.condition || "?"} · ${line.condition_name || ""}` }),
      el("td", { class: "num", text: money(line.amount, s) }),
      el("td", { text: line.funding === "sponsor" ? "sponsor pool (not shared)" : "shared by members" })));
    const result = el("div", { class: "verification", testid: "verification", "aria-live": "polite" });
    const verify = el("button", { type: "button", testid: "verify-statement", text: "Verify" });
    verify.addEventListener("click", () => verifyStatement(s, result, verify));
    return el("section", { class: "panel statement-period", testid: "statement-period", "data-period": s.period },
      el("h3", { text: `Period ${s.period}` }),
      el("table", { class: "table" },
        el("thead", {}, el("tr", {}, el("th", { text: "Claim" }), el("th", { text: "Condition" }), el("th", { class: "num", text: "Amount" }), el("th", { text: "Paid from" }))),
        el("tbody", {}, lines.length ? lines : [el("tr", {}, el("td", { colspan: 4, class: "muted", text: "No claims were included in this period." }))])),
      el("p", {}, s.shared ? "Share: " : "", el("span", { class: "share", testid: "statement-share", text: s.shared ? money(s.share, s) : "did not share this period" }), s.shared ? ` (index ${s.index} of ${s.members})` : ""),
      el("p", { class: "explain", testid: "explain", text: s.explain }),
      el("div", { class: "actions" }, verify, el("a", { class: "button", href: s.package, download: "", testid: "download-package", text: "Download the statement package" })),
      result);
  }

  async function verifyStatement(s, box, button) {
    button.disabled = true;
    box.replaceChildren(el("p", { class: "muted", text: "Fetching the proofs and checking them against the genesis…" }));
    try {
      const response = await fetch(s.package);
      if (!response.ok) throw new Error(`the statement package could not be fetched (${response.status})`);
      const bytes = await response.arrayBuffer();
      const verdict = await api(`${API}/statements/verify`, { method: "POST", headers: { "content-type": "application/cbor" }, body: bytes });
      box.replaceChildren(
        el("p", {}, el("span", { class: `badge verdict ${verdict.valid ? "valid" : "invalid"}`, testid: "verdict", text: verdict.valid ? "valid" : "invalid" }), " ", el("span", { testid: "verdict-reason", text: verdict.reason })),
        el("ol", { class: "steps", "aria-label": "Verification steps" }, verdict.steps.map((step) =>
          el("li", { class: "step", testid: "step", "data-step": step.step, "data-result": step.result, text: `${step.step}: ${step.result}${step.reason ? ` (${step.reason})` : ""}` }))),
        verdict.facts && verdict.facts.member_height ? el("p", { class: "muted", text: `Proofs of block ${verdict.facts.period_height} (period record) and block ${verdict.facts.member_height} (member record); the period closed at block ${verdict.facts.closed_height}. The same check runs offline: salus aid verify FILE --genesis genesis.json` }) : null,
      );
    } catch (error) {
      box.replaceChildren(el("p", { class: "error", text: error.message }));
    } finally {
      button.disabled = false;
    }
  }

  // -- rules and the diagram ------------------------------------------------------------------

  async function renderRules() {
    const plan = await api(planPath(""));
    const rules = plan.rules;
    const fields = [
      ["Eligible age bands", rules.eligible_bands.join(", ")],
      ["Waiting period", duration(rules.waiting_ms)],
      ["Sharing period", duration(rules.period_ms)],
      ["Management fee", `${rules.fee_bps / 100}% of member-funded payouts`],
      ["Most a member pays in a period", money(rules.member_cap, plan)],
      ["Investigation deadline", duration(rules.investigation_ms)],
      ["Public notice", duration(rules.notice_ms)],
      ["Seed reveal window", duration(rules.reveal_ms)],
      ["Jury", `${rules.jury_size} members, ${rules.jury_quorum} votes for a decision, ${duration(rules.jury_ms)} to vote`],
      ["Governors", `${plan.governors.join(", ")} (${plan.approvals_required} approve a change)`],
      ["Members", `${plan.members.active} active`],
      ["Pools", `members ${money(plan.pools.members.balance, plan)}, sponsor ${money(plan.pools.sponsor.balance, plan)}`],
    ];
    const conditions = plan.conditions.map((c) => el("tr", { testid: "condition", "data-code": c.code },
      el("td", {}, el("code", { text: c.code })), el("td", { text: c.name }),
      el("td", { class: "num", text: money(c.max_payout, plan) }),
      el("td", { text: c.funding === "sponsor" ? "sponsor" : "members" }),
      el("td", { text: `${c.effective_from}${c.effective_until ? ` until ${c.effective_until}` : " on"}` }),
      el("td", { text: c.added_by ? `proposal ${c.added_by}` : "plan creation" })));
    const changes = plan.changes.map((change) => {
      const p = change.proposal_record || {};
      return el("li", { testid: "rule-change" }, el("strong", { text: `Proposal ${change.proposal} (${change.kind})` }), ` in force from ${when(change.time_ms)}, block ${change.height}: ${p.note || ""} `, el("code", { text: JSON.stringify(p.params || {}) }), ` — proposed by ${p.proposer}, approved by ${(p.approvals || []).join(", ")}.`);
    });
    $("rules").replaceChildren(
      el("h3", { text: `${plan.name} (${plan.currency}), operated by ${plan.operator}` }),
      el("dl", { class: "rules-list panel" }, fields.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
      el("h3", { text: "Covered conditions" }),
      el("table", { class: "table" },
        el("thead", {}, el("tr", {}, ...["Code", "Condition", "Most paid", "Funded by", "Diagnoses", "Added by"].map((h) => el("th", { text: h })))),
        el("tbody", {}, conditions)),
      el("h3", { text: "Rule changes" }),
      changes.length ? el("ol", { class: "panel" }, changes) : el("p", { class: "muted", text: "No rule has changed since the plan was created." }),
    );
  }

  async function renderDiagram() {
    if ($("mermaid").textContent) return;
    const diagram = await api(`${API}/claim-diagram`);
    $("transitions").tBodies[0].replaceChildren(...diagram.transitions.map((t) => el("tr", { testid: "transition" },
      el("td", { text: t.from || "(new)" }), el("td", {}, el("code", { text: t.action })), el("td", { text: t.to }), el("td", { text: t.by }), el("td", { text: t.when }))));
    $("mermaid").textContent = diagram.mermaid;
  }

  // -- start -------------------------------------------------------------------------------

  async function poll() {
    try {
      const status = await api("/v1/status");
      const changed = state.height !== null && status.height !== state.height;
      state.height = status.height;
      $("status").textContent = `block ${status.height} · ${when(status.last_block_time_ms)}`;
      if (changed && LIVE.has(state.view) && state.plan) await render();
    } catch (error) {
      $("status").textContent = `node unreachable: ${error.message}`;
    }
  }

  async function start() {
    $("statement-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const did = $("member-did").value.trim();
      if (did) location.hash = link("statement", did);
    });
    $("plan").addEventListener("change", () => {
      state.plan = $("plan").value;
      location.hash = `#${state.view}&plan=${state.plan}`;
    });
    try {
      state.plans = (await api(`${API}/plans`)).plans;
    } catch (error) {
      showError(error);
    }
    $("plan").replaceChildren(...state.plans.map((p) => el("option", { value: p.plan, text: `${p.name} (${p.plan})` })));
    state.plan = state.plans.length ? state.plans[0].plan : null;
    window.addEventListener("hashchange", route);
    await poll();
    await route();
    setInterval(poll, 5000);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
