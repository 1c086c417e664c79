// Salus certificate verification page: no framework, no external assets.
// Sends the package to POST /v1/learning/verify and shows the offline verdict with
// each step, and, separately, the credential's current status on this node.
"use strict";

(function () {
  const API = "/v1/learning/verify";
  const STEPS = ["decode", "signature", "anchored", "ledger", "issuer", "key", "status"];
  const STEP_NAMES = {
    decode: "Package readable",
    signature: "Issuer's signature",
    anchored: "Inside its batch (Merkle path)",
    ledger: "Batch anchored on the ledger",
    issuer: "Issuer accredited at issue time",
    key: "Signing key bound to the issuer",
    status: "Not revoked or suspended",
  };
  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  function expectedHash() {
    const match = /(?:^#|&)h=([0-9a-f]{64})(?:&|$)/.exec(location.hash);
    return match ? match[1] : null;
  }

  function showError(message) {
    const box = $("form-error");
    box.textContent = message;
    box.hidden = false;
  }

  function verdictClass(verdict) {
    if (verdict === "valid") return "ok";
    if (verdict === "suspended" || verdict === "not anchored") return "warn";
    return "bad";
  }

  function fact(list, label, value, testid) {
    if (value === null || value === undefined || value === "") return;
    const dd = el("dd", testid ? { "data-testid": testid } : {}, String(value));
    if (/^[0-9a-f]{64}$/.test(String(value)) || String(value).startsWith("did:")) dd.className = "hash";
    list.append(el("div", {}, el("dt", {}, label), dd));
  }

  function render(body) {
    const offline = body.offline;
    const credential = body.credential || {};
    const online = body.online;

    const box = $("verdict-box");
    box.className = `verdict-box panel ${verdictClass(offline.verdict)}`;
    $("verdict").textContent = offline.verdict;
    $("verdict-reason").textContent = offline.valid
      ? `Every step passed: ${offline.reason}.`
      : offline.reason;
    $("verdict-step").textContent = offline.step;
    $("verdict-step-label").textContent = offline.valid ? "Result" : "Failed step";

    const expected = expectedHash();
    const hashMatch = $("hash-match");
    hashMatch.hidden = !expected;
    if (expected) {
      const same = credential.credential_hash === expected;
      hashMatch.textContent = same
        ? "This is the credential the QR code names."
        : "This is NOT the credential the QR code names: the hashes differ.";
      hashMatch.className = `hash-match ${same ? "ok" : "bad"}`;
    }

    const facts = $("credential-facts");
    facts.replaceChildren();
    fact(facts, "Credential hash", credential.credential_hash, "credential-hash");
    fact(facts, "Issuer", offline.facts.issuer || credential.issuer);
    fact(facts, "Signing key", offline.facts.key);
    fact(facts, "Learner", offline.facts.subject);
    if (offline.facts.issued_at_s) {
      fact(facts, "Issued", new Date(offline.facts.issued_at_s * 1000).toISOString().slice(0, 10));
    }
    if (credential.count) fact(facts, "In batch", `${credential.index + 1} of ${credential.count}`);
    fact(facts, "Anchored at block", offline.facts.anchored_at);
    fact(facts, "Proven at block", offline.facts.proven_at);

    const steps = $("steps");
    steps.replaceChildren();
    const passed = new Map(offline.steps.map((s) => [s.step, s.detail]));
    for (const name of STEPS) {
      let state = "skipped";
      let detail = "not reached";
      if (passed.has(name) && !(name === offline.step && !offline.valid)) {
        state = "passed";
        detail = passed.get(name);
      } else if (name === offline.step) {
        state = "failed";
        detail = offline.reason;
      }
      const mark = { passed: "✓", failed: "✗", skipped: "–" }[state];
      steps.append(
        el(
          "li",
          { class: `step ${state}`, "data-testid": "step", "data-step": name, "data-result": state },
          el("span", { class: "mark", "aria-hidden": "true" }, mark),
          el("span", { class: "step-name" }, STEP_NAMES[name] || name),
          el("span", { class: "step-result", "data-testid": "step-result" }, state),
          el("span", { class: "step-detail" }, detail),
        ),
      );
    }

    $("online-status").textContent = online.checked ? online.status : "not checked";
    $("online-status").className = `pill ${online.checked ? verdictClass(online.status === "active" ? "valid" : online.status) : "warn"}`;
    $("online-reason").textContent = online.reason;
    const onlineFacts = $("online-facts");
    onlineFacts.replaceChildren();
    if (online.checked) {
      fact(onlineFacts, "Checked at block", online.height);
      fact(onlineFacts, "Issuer", online.issuer_name);
      fact(onlineFacts, "Issuer's standing now", online.issuer_status || "not an issuer");
      fact(onlineFacts, "Status list index", online.status_index);
    }

    $("result").hidden = false;
  }

  async function fileBytes(input) {
    const file = input.files && input.files[0];
    return file ? new Uint8Array(await file.arrayBuffer()) : null;
  }

  async function submit(event) {
    event.preventDefault();
    $("form-error").hidden = true;
    const bytes = await fileBytes($("package-file"));
    const text = $("package-text").value.replace(/\s+/g, "");
    let request;
    if (bytes) {
      request = { method: "POST", headers: { "Content-Type": "application/cbor" }, body: bytes };
    } else if (text) {
      request = {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ package: text }),
      };
    } else {
      showError("Choose a certificate package file, or paste one as base64.");
      return;
    }
    const button = $("verify-submit");
    button.disabled = true;
    $("result").setAttribute("aria-busy", "true");
    try {
      const response = await fetch(API, request);
      const body = await response.json();
      if (!response.ok) {
        $("result").hidden = true;
        showError(body.error ? body.error.message : `The node answered ${response.status}.`);
        return;
      }
      render(body);
      $("verdict-box").focus();
    } catch (err) {
      showError(`The node could not be reached: ${err}`);
    } finally {
      button.disabled = false;
      $("result").removeAttribute("aria-busy");
    }
  }

  function start() {
    const expected = expectedHash();
    if (expected) {
      $("expected-hash-value").textContent = expected;
      $("expected-hash").hidden = false;
    }
    $("verify-form").addEventListener("submit", submit);
    $("verify-form").addEventListener("reset", () => {
      $("result").hidden = true;
      $("form-error").hidden = true;
    });
    $("verdict-box").setAttribute("tabindex", "-1");
  }

  start();
})();
