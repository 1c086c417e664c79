// Salus certificate verification page: no framework, nothing fetched from elsewhere.
// A certificate arrives as a package file, pasted text (a VC-JWT or a base64 package),
// a photo of its QR code (decoded here with the vendored jsQR), or the page's own URL
// fragment when a phone's camera app opened a QR code's link:
//   #vc=<VC-JWT>  the credential itself: verified at once;
//   #h=<sha-256>  only its hash: the ledger's record of it is looked up.
// POST /v1/learning/verify gives the offline verdict with each step and, separately,
// the current status on this node; GET /v1/learning/credentials/<hash> the record.
"use strict";

(function () {
  const VERIFY = "/v1/learning/verify";
  const BY_HASH = "/v1/learning/credentials/";
  const STEPS = ["decode", "signature", "anchored", "ledger", "issuer", "key", "status"];
  const STEP_NAMES = {
    decode: "Certificate readable",
    signature: "Issuer's signature",
    anchored: "Inside its batch (Merkle path)",
    ledger: "Batch anchored on the ledger",
    issuer: "Issuer accredited at issue time",
    key: "Signing key bound to the issuer",
    status: "Not revoked or suspended",
  };
  const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
  const HASH = /^[0-9a-f]{64}$/;
  // Decoding sizes tried in turn (longest side, pixels): small first for speed, larger
  // for dense codes (a credential fills a version 35-39 symbol, 157-173 modules wide).
  const QR_SIZES = [1000, 1800, 2800];
  // Shared with the other Salus pages: /explorer/salus-page.js, loaded before this script.
  const { el, stepItem } = window.Salus;
  const $ = window.Salus.byTestId;
  let expected = null;

  // What a QR code, a link or pasted text holds: {credential}, {hash}, {package} or null.
  function classify(text) {
    const trimmed = text.trim();
    const fragment = trimmed.includes("#") ? trimmed.slice(trimmed.indexOf("#") + 1) : null;
    if (fragment !== null) {
      const params = new URLSearchParams(fragment);
      const vc = params.get("vc");
      if (vc && JWT.test(vc)) return { credential: vc };
      const hash = params.get("h");
      if (hash && HASH.test(hash)) return { hash };
      return null;
    }
    const compact = trimmed.replace(/\s+/g, "");
    if (JWT.test(compact)) return { credential: compact };
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return { package: compact };
    return null;
  }

  function showError(message) {
    const box = $("form-error");
    box.textContent = message;
    box.hidden = false;
  }

  function qrStatus(message, state) {
    const box = $("qr-status");
    box.textContent = message;
    box.className = `qr-status small ${state || ""}`;
    box.hidden = !message;
  }

  function verdictClass(verdict) {
    if (verdict === "valid") return "ok";
    if (verdict === "suspended" || verdict === "not anchored") return "warn";
    return "bad";
  }

  function statusClass(status) {
    return verdictClass(status === "active" ? "valid" : status);
  }

  function fact(list, label, value, testid) {
    if (value === null || value === undefined || value === "") return;
    const dd = el("dd", { testid }, String(value));
    if (/^[0-9a-f]{64}$/.test(String(value)) || String(value).startsWith("did:")) dd.className = "hash";
    list.append(el("div", {}, el("dt", {}, label), dd));
  }

  function date(ms) {
    return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : null;
  }

  function showExpected(hash) {
    expected = hash;
    $("expected-hash-value").textContent = hash || "";
    $("expected-hash").hidden = !hash;
  }

  function renderVerdict(body) {
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

    const hashMatch = $("hash-match");
    hashMatch.hidden = !expected;
    if (expected) {
      const same = credential.credential_hash === expected;
      hashMatch.textContent = same
        ? "This is the credential the QR code names."
        : "This is NOT the credential the QR code names: the hashes differ.";
      hashMatch.className = `hash-match ${same ? "ok" : "bad"}`;
    }

    const source = $("source");
    source.hidden = body.input !== "credential";
    if (body.located) {
      source.textContent =
        `You gave the credential without its proofs: this node found it in batch ` +
        `${body.located.batch_root} (by its ${body.located.by}) and rebuilt its certificate ` +
        `package from the ledger, then checked it as a verifier offline would.`;
    } else if (body.input === "credential") {
      source.textContent = "You gave the credential without its proofs, and no batch on " +
        "this node's ledger holds it.";
    }
    const download = $("download");
    download.hidden = !body.package;
    if (body.package) {
      const bytes = Uint8Array.from(atob(body.package), (c) => c.charCodeAt(0));
      const link = $("download-package");
      if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(new Blob([bytes], { type: "application/cbor" }));
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
      steps.append(stepItem({ step: name, result: state, name: STEP_NAMES[name] || name, detail, withResult: true }));
    }

    $("online-status").textContent = online.checked ? online.status : "not checked";
    $("online-status").className = `pill ${online.checked ? statusClass(online.status) : "warn"}`;
    $("online-reason").textContent = online.reason;
    const onlineFacts = $("online-facts");
    onlineFacts.replaceChildren();
    if (online.checked) {
      fact(onlineFacts, "Checked at block", online.height);
      fact(onlineFacts, "Issuer", online.issuer_name);
      if (online.issuer_mismatch) fact(onlineFacts, "Does not match", online.issuer_mismatch);
      fact(onlineFacts, "Issuer's standing now", online.issuer_status || "not an issuer");
      fact(onlineFacts, "Status list index", online.status_index);
    }

    $("result").hidden = false;
  }

  function renderLookup(status, body) {
    const panel = $("lookup");
    const facts = $("lookup-facts");
    facts.replaceChildren();
    const pill = $("lookup-status");
    if (status === 404) {
      pill.textContent = "not found";
      pill.className = "pill bad";
      $("lookup-reason").textContent = body.error.message;
    } else {
      pill.textContent = body.status;
      pill.className = `pill ${statusClass(body.status)}`;
      $("lookup-reason").textContent =
        `Anchored by ${body.issuer_name || body.issuer} in block ${body.batch.anchored_at}; ` +
        `${body.reason}.`;
      fact(facts, "Credential hash", body.credential_hash, "lookup-hash");
      fact(facts, "Issuer", body.issuer_name, "lookup-issuer-name");
      fact(facts, "Issuer's DID", body.issuer);
      fact(facts, "Issuer's standing now", body.issuer_status);
      fact(facts, "Anchored at block", body.batch.anchored_at, "lookup-block");
      fact(facts, "Anchored on", date(body.batch.anchored_time_ms));
      fact(facts, "Batch root", body.batch.root, "lookup-batch");
      fact(facts, "In batch", `${body.batch.index + 1} of ${body.batch.count}`);
      fact(facts, "Status list index", body.status_index);
      fact(facts, "Checked at block", body.as_of);
    }
    panel.hidden = false;
  }

  async function busy(work) {
    const button = $("verify-submit");
    button.disabled = true;
    $("result").setAttribute("aria-busy", "true");
    try {
      await work();
    } catch (err) {
      showError(`The node could not be reached: ${err}`);
    } finally {
      button.disabled = false;
      $("result").removeAttribute("aria-busy");
    }
  }

  async function verify(request) {
    await busy(async () => {
      const response = await fetch(VERIFY, request);
      const body = await response.json();
      if (!response.ok) {
        $("result").hidden = true;
        showError(body.error ? body.error.message : `The node answered ${response.status}.`);
        return;
      }
      renderVerdict(body);
      $("verdict-box").focus();
    });
  }

  async function lookup(hash) {
    await busy(async () => {
      const response = await fetch(BY_HASH + hash);
      const body = await response.json();
      if (!response.ok && response.status !== 404) {
        showError(body.error ? body.error.message : `The node answered ${response.status}.`);
        return;
      }
      renderLookup(response.status, body);
    });
  }

  function json(value) {
    return { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) };
  }

  // Act on what a QR code, a link or pasted text holds.
  async function handle(found) {
    $("form-error").hidden = true;
    if (found.hash) {
      showExpected(found.hash);
      $("result").hidden = true;
      await lookup(found.hash);
    } else if (found.credential) {
      $("lookup").hidden = true;
      await verify(json({ credential: found.credential }));
    } else if (found.package) {
      $("lookup").hidden = true;
      await verify(json({ package: found.package }));
    }
  }

  async function decodeQr(file) {
    if (typeof jsQR !== "function") throw new Error("the QR decoder did not load");
    const image = await createImageBitmap(file);
    try {
      const canvas = document.createElement("canvas");
      const context = canvas.getContext("2d", { willReadFrequently: true });
      const longest = Math.max(image.width, image.height);
      const sizes = QR_SIZES.filter((s) => s < longest);
      sizes.push(Math.min(longest, QR_SIZES[QR_SIZES.length - 1]));
      for (const size of sizes) {
        const scale = Math.min(1, size / longest);
        canvas.width = Math.round(image.width * scale);
        canvas.height = Math.round(image.height * scale);
        context.drawImage(image, 0, 0, canvas.width, canvas.height);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        const code = jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: "attemptBoth" });
        if (code && code.data) return code.data;
        await new Promise((resolve) => setTimeout(resolve, 0)); // let the page repaint
      }
      return null;
    } finally {
      image.close();
    }
  }

  async function fromPhoto(file) {
    $("form-error").hidden = true;
    qrStatus("Reading the QR code…", "");
    let text;
    try {
      text = await decodeQr(file);
    } catch (err) {
      qrStatus(`This picture cannot be read: ${err.message || err}`, "bad");
      return;
    }
    if (text === null) {
      qrStatus("No QR code found in this picture. Take it closer, straight on, in good light, " +
        "with the whole code in the frame.", "bad");
      return;
    }
    const found = classify(text);
    if (!found || found.package) {
      qrStatus(`This QR code is not a Salus certificate's. It holds: ${text.slice(0, 80)}`, "bad");
      return;
    }
    qrStatus(found.hash
      ? "QR code read: it holds a link with the credential's hash."
      : "QR code read: it holds the credential.", "ok");
    await handle(found);
  }

  async function submit(event) {
    event.preventDefault();
    $("form-error").hidden = true;
    const input = $("package-file");
    const file = input.files && input.files[0];
    if (file) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      $("lookup").hidden = true;
      await verify({ method: "POST", headers: { "Content-Type": "application/cbor" }, body: bytes });
      return;
    }
    const text = $("package-text").value;
    if (!text.trim()) {
      showError("Take or choose a photo of the QR code, choose a certificate file, or paste a credential.");
      return;
    }
    const found = classify(text);
    if (!found) {
      showError("This is neither a credential (eyJ…), a verification link, nor a base64 package.");
      return;
    }
    await handle(found);
  }

  async function fromFragment() {
    const found = location.hash.length > 1 ? classify(location.hash) : null;
    showExpected(found && found.hash ? found.hash : null);
    if (found && !found.package) await handle(found);
  }

  function dropped(event) {
    event.preventDefault();
    $("drop-zone").classList.remove("over");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (!file) return;
    if (file.type.startsWith("image/")) {
      fromPhoto(file);
    } else {
      const transfer = new DataTransfer();
      transfer.items.add(file);
      $("package-file").files = transfer.files;
      $("verify-form").requestSubmit();
    }
  }

  function start() {
    $("verify-form").addEventListener("submit", submit);
    $("verify-form").addEventListener("reset", () => {
      $("result").hidden = true;
      $("lookup").hidden = true;
      $("form-error").hidden = true;
      qrStatus("");
    });
    $("qr-photo").addEventListener("change", async () => {
      const input = $("qr-photo");
      const file = input.files[0];
      if (!file) return;
      await fromPhoto(file);
      input.value = ""; // so that the next photo, even of the same name, is read too
    });
    const zone = $("verify-form");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      $("drop-zone").classList.add("over");
    });
    zone.addEventListener("dragleave", () => $("drop-zone").classList.remove("over"));
    zone.addEventListener("drop", dropped);
    window.addEventListener("hashchange", fromFragment);
    $("verdict-box").setAttribute("tabindex", "-1");
    fromFragment();
  }

  start();
})();
