// Salus ledger explorer: hand-written, no framework, talks only to the node that serves it.
//
// Routes live in the URL hash so every page is linkable:
//   #/                         overview: latest transactions
//   #/block/<height>?offset=n  a block's header and a page of its transactions
//   #/tx/<id>                  a transaction, its outcome, events and inclusion proof
//   #/state/<contract>/<key>   a state entry, with a state proof
//   #/events?contract=&type=&subject=   the event index
// Everything shown is built with textContent (never innerHTML), so ledger data
// can never inject markup.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const TX_PAGE = 25;
  const EVENTS_PAGE = 50;

  // -- small helpers ----------------------------------------------------------
  // Shared with the other Salus pages: /explorer/salus-page.js, loaded before this script.
  const { el, api, postJson, ApiError, problem, short, hash, shortHash, fields, verdictClass, verdictLines } = window.Salus;
  const time = (ms) => window.Salus.time(ms, `${ms} ms`);

  const $ = (selector) => document.querySelector(selector);

  function keyPath(key) {
    return key.split("/").map(encodeURIComponent).join("/");
  }

  const links = {
    block: (height) => `#/block/${height}`,
    tx: (id) => `#/tx/${id}`,
    state: (contract, key) => `#/state/${encodeURIComponent(contract)}/${keyPath(key)}`,
  };

  function badge(ok, text) {
    return el("span", { class: `badge ${ok ? "badge-ok" : "badge-bad"}`, testid: "badge" }, text);
  }

  function json(value, testid) {
    return el("pre", { class: "json", testid, tabindex: 0 }, JSON.stringify(value, null, 2));
  }

  function table(caption, headers, rows, testid) {
    return el(
      "table",
      { class: "table", testid },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows),
    );
  }

  // -- status bar and latest blocks (auto-refreshing) -------------------------

  let lastTip = -1;

  async function refresh() {
    try {
      const status = await api("/v1/status");
      $('[data-testid="status-chain-id"]').textContent = status.chain_id;
      $('[data-testid="status-height"]').textContent = String(status.height);
      const root = $('[data-testid="status-state-root"]');
      root.textContent = short(status.state_root, 12);
      root.title = status.state_root;
      $('[data-testid="status-mempool"]').textContent = `${status.mempool} waiting`;
      $('[data-testid="status-time"]').replaceChildren(
        status.height ? time(status.last_block_time_ms) : "no blocks yet",
      );
      const live = $('[data-testid="status-live"]');
      live.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
      live.classList.remove("offline");
      if (status.height !== lastTip) {
        const first = lastTip < 0;
        lastTip = status.height;
        await renderLatestBlocks();
        // The overview lists the latest transactions: keep it current too.
        if (!first && parseHash().parts.length === 0) render();
      }
    } catch (error) {
      const live = $('[data-testid="status-live"]');
      live.textContent = `node unreachable: ${error.message}`;
      live.classList.add("offline");
    }
  }

  async function renderLatestBlocks() {
    const list = $('[data-testid="latest-blocks"]');
    const { blocks } = await api("/v1/blocks?limit=12");
    if (!blocks.length) {
      list.replaceChildren(el("li", { class: "muted" }, "No blocks yet."));
      return;
    }
    list.replaceChildren(
      ...blocks.map((header) =>
        el(
          "li",
          {},
          el(
            "a",
            { href: links.block(header.height), testid: "block-link", "data-height": header.height },
            el("span", { class: "block-height" }, `#${header.height}`),
            el("span", { class: "block-meta" }, `${header.tx_count} tx · `, el("code", { class: "hash small" }, short(header.hash, 8))),
            el("span", { class: "block-time small muted" }, time(header.time_ms)),
          ),
        ),
      ),
    );
  }

  async function loadContractNames() {
    try {
      const contracts = await api("/v1/contracts");
      $("#contract-names").replaceChildren(...contracts.map((c) => el("option", { value: c.name })));
    } catch {
      /* the lookup still works with a typed name */
    }
  }

  // -- views ------------------------------------------------------------------

  const view = () => $("#view");
  let renderSeq = 0;

  function txRows(txs) {
    return txs.map((tx) =>
      el(
        "tr",
        { testid: "tx-row" },
        el("td", {}, tx.index),
        el("td", {}, el("a", { href: links.tx(tx.id), testid: "tx-link", title: tx.id }, short(tx.id))),
        el("td", {}, `${tx.contract}.${tx.action}`),
        el("td", {}, shortHash(tx.signer, 14)),
        el("td", {}, tx.nonce),
        el("td", {}, badge(tx.ok, tx.ok ? "applied" : "refused"), tx.ok ? "" : ` ${tx.reason}`),
      ),
    );
  }

  async function overview(seq) {
    const { txs } = await api("/v1/txs?limit=20");
    if (seq !== renderSeq) return;
    const rows = txs.map((tx) =>
      el(
        "tr",
        { testid: "tx-row" },
        el("td", {}, el("a", { href: links.block(tx.height) }, tx.height)),
        el("td", {}, el("a", { href: links.tx(tx.id), testid: "tx-link", title: tx.id }, short(tx.id))),
        el("td", {}, `${tx.contract}.${tx.action}`),
        el("td", {}, shortHash(tx.signer, 14)),
        el("td", {}, badge(tx.ok, tx.ok ? "applied" : "refused")),
      ),
    );
    view().replaceChildren(
      el("h1", {}, "Overview"),
      el(
        "p",
        { class: "lead" },
        "A shared, tamper-evident record kept by the consortium. Open a block or a transaction " +
          "to see its proof, and verify it with the same checker anyone can run offline.",
      ),
      rows.length
        ? table("Latest transactions", ["Block", "Id", "Action", "Signer", "Outcome"], rows, "recent-txs")
        : el("p", { class: "muted" }, "No transactions yet."),
    );
  }

  async function blockView(seq, height, offset) {
    const block = await api(`/v1/blocks/${height}?offset=${offset}&limit=${TX_PAGE}`);
    if (seq !== renderSeq) return;
    const h = block.header;
    const pager = el("div", { class: "pager" });
    const last = Math.min(offset + TX_PAGE, block.tx_count);
    pager.append(
      el("a", {
        href: offset > 0 ? `${links.block(height)}?offset=${Math.max(0, offset - TX_PAGE)}` : null,
        class: offset > 0 ? "button" : "button disabled",
        "aria-disabled": offset > 0 ? null : "true",
        testid: "txs-prev",
      }, "← Previous"),
      el("span", { testid: "txs-page-info" }, block.tx_count ? `${offset + 1}–${last} of ${block.tx_count}` : "no transactions"),
      el("a", {
        href: last < block.tx_count ? `${links.block(height)}?offset=${offset + TX_PAGE}` : null,
        class: last < block.tx_count ? "button" : "button disabled",
        "aria-disabled": last < block.tx_count ? null : "true",
        testid: "txs-next",
      }, "Next →"),
    );
    view().replaceChildren(
      el("h1", { testid: "block-title" }, `Block ${h.height}`),
      fields(
        [
          ["Height", h.height, "block-height"],
          ["Time", time(h.time_ms)],
          ["Hash", hash(h.hash, "block-hash")],
          ["Previous", h.height > 1 ? el("a", { href: links.block(h.height - 1) }, hash(h.prev_hash)) : hash(h.prev_hash)],
          ["Transactions", h.tx_count, "block-tx-count"],
          ["Tx root", hash(h.tx_root)],
          ["Results root", hash(h.results_root)],
          ["State root", hash(h.state_root)],
          ["Proposer", hash(h.proposer)],
          ["Signature", hash(block.signature)],
        ],
        "block-header",
      ),
      el("h2", {}, "Transactions"),
      block.txs.length
        ? table(`Transactions of block ${h.height}`, ["#", "Id", "Action", "Signer", "Nonce", "Outcome"], txRows(block.txs), "block-txs")
        : el("p", { class: "muted" }, "This page holds no transactions."),
      pager,
    );
  }

  // A proof panel: the bundle as JSON, a download link, and Verify buttons that
  // POST the bundle to /v1/verify (the core verifier, as `salus verify` runs it).
  function proofPanel(proof, downloadHref) {
    const verdict = el("div", { class: "verdict", testid: "verdict-panel", role: "status", "aria-live": "polite" });

    async function verify(bundle, label) {
      verdict.replaceChildren(el("p", { class: "muted" }, `Verifying ${label}…`));
      try {
        const result = await postJson("/v1/verify", { bundle });
        verdict.className = verdictClass(result);
        verdict.replaceChildren(...verdictLines(result, label));
      } catch (error) {
        verdict.replaceChildren(problem(error));
      }
    }

    // Flip one bit in the middle of the bundle: the verifier must refuse the copy.
    function tampered(bundle) {
      const bytes = Uint8Array.from(atob(bundle), (c) => c.charCodeAt(0));
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      let text = "";
      for (const byte of bytes) text += String.fromCharCode(byte);
      return btoa(text);
    }

    return el(
      "section",
      { class: "proof", testid: "proof-panel", "aria-labelledby": "proof-heading" },
      el("h2", { id: "proof-heading" }, "Proof bundle"),
      el("p", { class: "muted" },
        "Self-contained: the signed block header plus a Merkle path. With the network's genesis, " +
        "anyone can check it without trusting this node."),
      el("div", { class: "actions" },
        el("button", { type: "button", testid: "verify-button", onclick: () => verify(proof.bundle, "This bundle") }, "Verify"),
        el("button", { type: "button", class: "secondary", testid: "tamper-button", onclick: () => verify(tampered(proof.bundle), "A copy with one bit flipped") }, "Verify a tampered copy"),
        el("a", { class: "button secondary", href: downloadHref, download: "", testid: "proof-download" }, "Download .cbor"),
      ),
      verdict,
      el("details", { open: true }, el("summary", {}, "Bundle contents (JSON view)"), json(proof.bundle_json, "proof-json")),
    );
  }

  async function txView(seq, id) {
    const tx = await api(`/v1/txs/${encodeURIComponent(id)}`);
    if (seq !== renderSeq) return;
    const committed = typeof tx.height === "number";
    const parts = [
      el("h1", {}, "Transaction"),
      fields(
        [
          ["Id", hash(tx.id, "tx-id")],
          ["Status", badge(tx.status === "committed", tx.status), "tx-status"],
          committed ? ["Block", el("a", { href: links.block(tx.height), testid: "tx-block-link" }, tx.height)] : null,
          committed ? ["Index", tx.index] : null,
          tx.tx ? ["Signer", hash(tx.tx.signer, "tx-signer")] : null,
          tx.tx ? ["Action", el("code", {}, `${tx.tx.contract}.${tx.tx.action}`), "tx-action"] : null,
          tx.tx ? ["Nonce", tx.tx.nonce] : null,
          tx.code ? ["Result", el("code", {}, tx.code), "tx-code"] : null,
          tx.reason ? ["Reason", tx.reason, "tx-reason"] : null,
        ].filter(Boolean),
        "tx-fields",
      ),
    ];
    if (tx.tx) parts.push(el("h2", {}, "Arguments"), json(tx.tx.args, "tx-args"));
    if (committed) {
      const events = tx.events || [];
      parts.push(
        el("h2", {}, "Events"),
        events.length
          ? table("Events emitted", ["Contract", "Type", "Subject", "Attributes"], events.map((e) =>
              el("tr", { testid: "event-row" },
                el("td", {}, e.contract),
                el("td", {}, e.type),
                el("td", {}, e.subject ?? "—"),
                el("td", {}, el("code", {}, JSON.stringify(e.attrs))))), "tx-events")
          : el("p", { class: "muted" }, "No events (a refused transaction emits none)."),
      );
      const proof = await api(`/v1/proofs/tx/${id}`);
      if (seq !== renderSeq) return;
      parts.push(proofPanel(proof, `/v1/proofs/tx/${id}?format=cbor`));
    } else if (tx.status === "pending") {
      parts.push(el("p", { class: "muted" }, "Waiting for a block; this page updates by itself."));
      setTimeout(() => { if (seq === renderSeq) render(); }, REFRESH_MS);
    }
    view().replaceChildren(...parts);
  }

  async function stateView(seq, contract, key) {
    const form = $("#state-form");
    form.elements.contract.value = contract;
    form.elements.key.value = key;
    const parts = [el("h1", {}, "State entry"), el("p", {}, el("code", { testid: "state-name" }, `${contract}/${key}`))];
    let present = true;
    try {
      const entry = await api(`/v1/state/${encodeURIComponent(contract)}/${keyPath(key)}`);
      parts.push(fields([["Height", entry.height, "state-height"]]), el("h2", {}, "Value"), json(entry.value, "state-value"));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404 && error.code === "not_found")) throw error;
      present = false;
      parts.push(el("p", { class: "problem", testid: "state-absent" }, error.message));
    }
    if (seq !== renderSeq) return;
    const proofSlot = el("div", { testid: "state-proof-slot" });
    const proofUrl = `/v1/proofs/state/${encodeURIComponent(contract)}/${keyPath(key)}`;
    const button = el("button", {
      type: "button",
      testid: "state-proof-button",
      onclick: async () => {
        button.disabled = true;
        try {
          const proof = await api(proofUrl);
          proofSlot.replaceChildren(proofPanel(proof, `${proofUrl}?format=cbor`));
        } catch (error) {
          proofSlot.replaceChildren(problem(error));
        } finally {
          button.disabled = false;
        }
      },
    }, present ? "Proof" : "Proof of absence");
    parts.push(el("div", { class: "actions" }, button), proofSlot);
    view().replaceChildren(...parts);
  }

  function stateHome() {
    view().replaceChildren(
      el("h1", {}, "State"),
      el("p", { class: "lead" }, "Look up a contract's key with the form beside this page, e.g. ",
        el("a", { href: links.state("identity", "members") }, "identity / members"), "."),
    );
    $("#state-key").focus();
  }

  async function eventsView(seq, query) {
    const filters = { contract: query.get("contract") || "", type: query.get("type") || "", subject: query.get("subject") || "" };
    const form = el("form", { class: "filters", testid: "events-filters" },
      ...["contract", "type", "subject"].map((name) =>
        el("div", { class: "stack" },
          el("label", { for: `events-${name}` }, name[0].toUpperCase() + name.slice(1)),
          el("input", { id: `events-${name}`, name, value: filters[name], autocomplete: "off", spellcheck: "false", testid: `events-${name}` }))),
      el("button", { type: "submit", testid: "events-apply" }, "Filter"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const params = new URLSearchParams();
      for (const name of ["contract", "type", "subject"]) {
        const value = form.elements[name].value.trim();
        if (value) params.set(name, value);
      }
      const text = params.toString();
      location.hash = `#/events${text ? `?${text}` : ""}`;
    });
    const tbody = el("tbody", {});
    const more = el("button", { type: "button", class: "secondary", testid: "events-more", hidden: true }, "Load more");
    const list = el("table", { class: "table", testid: "events-table" },
      el("caption", {}, "Events, oldest first"),
      el("thead", {}, el("tr", {}, ["Seq", "Block", "Transaction", "Contract", "Type", "Subject", "Attributes"].map((h) => el("th", { scope: "col" }, h)))),
      tbody);
    let cursor = 0;
    async function page() {
      const params = new URLSearchParams({ limit: String(EVENTS_PAGE), after: String(cursor) });
      for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
      const result = await api(`/v1/events?${params}`);
      for (const e of result.events) {
        tbody.append(el("tr", { testid: "event-row" },
          el("td", {}, e.seq),
          el("td", {}, el("a", { href: links.block(e.height) }, e.height)),
          el("td", {}, el("a", { href: links.tx(e.tx_id), title: e.tx_id }, short(e.tx_id, 8))),
          el("td", {}, e.contract),
          el("td", {}, e.type),
          el("td", {}, e.subject ?? "—"),
          el("td", {}, el("code", {}, JSON.stringify(e.attrs)))));
      }
      cursor = result.next ?? cursor;
      more.hidden = result.next === null;
      return result.events.length;
    }
    more.addEventListener("click", () => page().catch((error) => more.replaceWith(problem(error))));
    const count = await page();
    if (seq !== renderSeq) return;
    view().replaceChildren(
      el("h1", {}, "Events"),
      form,
      count ? list : el("p", { class: "muted", testid: "events-empty" }, "No events match these filters."),
      more,
    );
  }

  // -- router -----------------------------------------------------------------

  function parseHash() {
    const raw = location.hash.replace(/^#/, "");
    const cut = raw.indexOf("?");
    const path = cut < 0 ? raw : raw.slice(0, cut);
    const query = new URLSearchParams(cut < 0 ? "" : raw.slice(cut + 1));
    const parts = path.split("/").filter(Boolean).map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part; // a malformed escape: show the "not found" page, not an error
      }
    });
    return { parts, query };
  }

  async function render() {
    const seq = ++renderSeq;
    const route = parseHash();
    const [section, ...rest] = route.parts;
    for (const link of document.querySelectorAll(".tabs a")) {
      const target = link.getAttribute("href");
      const active = target === `#/${section || ""}` || (target === "#/" && !section);
      if (active) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    try {
      if (!section) await overview(seq);
      else if (section === "block" && /^\d+$/.test(rest[0] || "")) {
        const offset = Math.max(0, parseInt(route.query.get("offset") || "0", 10) || 0);
        await blockView(seq, rest[0], offset);
      } else if (section === "tx" && rest.length === 1) await txView(seq, rest[0]);
      else if (section === "state" && rest.length >= 2) await stateView(seq, rest[0], rest.slice(1).join("/"));
      else if (section === "state") stateHome();
      else if (section === "events") await eventsView(seq, route.query);
      else view().replaceChildren(el("h1", {}, "Not found"), el("p", {}, "There is no such page. "), el("a", { href: "#/" }, "Back to the overview"));
    } catch (error) {
      if (seq === renderSeq) view().replaceChildren(el("h1", {}, "Something went wrong"), problem(error));
    }
  }

  function start() {
    $("#state-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const contract = form.elements.contract.value.trim();
      const key = form.elements.key.value.trim();
      if (contract && key) location.hash = links.state(contract, key);
    });
    $(".skip-link").addEventListener("click", (event) => {
      event.preventDefault();
      view().focus();
    });
    window.addEventListener("hashchange", () => {
      render().then(() => view().focus({ preventScroll: true }));
    });
    loadContractNames();
    refresh();
    setInterval(refresh, REFRESH_MS);
    render();
  }

  start();
})();
