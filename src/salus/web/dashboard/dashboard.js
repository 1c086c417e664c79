// Salus outbreak dashboard: no framework, no CDN; talks only to the node that serves it.
//
// Libraries (vendored in vendor/, see vendor/manifest.json): d3-geo + topojson-client draw
// the world map from world-atlas's countries-110m TopoJSON, uPlot draws the charts.
// Everything ledger data reaches is built with textContent (never innerHTML), so a
// figure, a reporter's name or a public post can never inject markup.
//
// The page's state lives in the URL hash so a view is linkable:
//   #region=FR&metric=deaths&measure=per100k&view=daily
"use strict";

(() => {
  const METRICS = ["confirmed", "deaths", "recovered", "tests", "vaccinations"];
  const METRIC_NAMES = {
    confirmed: "Confirmed",
    deaths: "Deaths",
    recovered: "Recovered",
    tests: "Tests",
    vaccinations: "Vaccinations",
  };
  const METRIC_COLOURS = {
    confirmed: "#d9602a",
    deaths: "#6b4c9a",
    recovered: "#1d7a3a",
    tests: "#2f6db5",
    vaccinations: "#0b6e6e",
  };
  const VIEW_NAMES = {
    cumulative: "cumulative",
    daily: "daily new",
    avg7: "7-day average of daily new",
    per100k: "cumulative per 100,000 people",
  };
  const STEP_NAMES = {
    decode: "Bundle readable",
    row: "Row holds the figure",
    anchored: "Row inside its batch (Merkle path)",
    ledger: "Anchored on the ledger (signed block)",
    figure: "Version states the figure",
    hash: "Post matches its hash",
    anchor: "Hash anchored on the ledger (state proof)",
    chain: "Network (chain id)",
    signer: "Block signed by a validator",
    signature: "Block signature",
    state: "State proof",
  };
  const CLASSES = 7;
  const REFRESH_MS = 5000;
  const POSTS_PAGE = 10;

  // -- small helpers ------------------------------------------------------------------

  // Shared with the other Salus pages: /explorer/salus-page.js, loaded before this script.
  const { el, api, postJson, ApiError, problem, short, hash, shortHash, time, fields, verdictBox, stepItem, chartColours } = window.Salus;
  const $ = window.Salus.byTestId;

  const svgNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const node = document.createElementNS(svgNS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    }
    return node;
  }

  const numberFormat = new Intl.NumberFormat("en");
  const rateFormat = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

  function fmt(value) {
    return value === null || value === undefined ? "—" : numberFormat.format(value);
  }

  function fmtRate(value) {
    return value === null || value === undefined ? "—" : rateFormat.format(value);
  }

  function per100k(value, population) {
    if (value === null || value === undefined || !population) return null;
    return (value * 100000) / population;
  }

  // SHA-256 of bytes, as hex: the browser's WebCrypto where the page is a secure context
  // (https, or http on 127.0.0.1 / localhost), else a small FIPS 180-4 implementation.
  async function sha256Hex(bytes) {
    if (globalThis.crypto && crypto.subtle) {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    }
    return sha256Fallback(bytes);
  }

  function sha256Fallback(bytes) {
    const K = new Uint32Array([
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]);
    const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const length = bytes.length;
    const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    view.setUint32(padded.length - 4, (length << 3) >>> 0);
    const W = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let i = 0; i < 16; i++) W[i] = view.getUint32(offset + i * 4);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
        const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let i = 0; i < 64; i++) {
        const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    return Array.from(H, (word) => word.toString(16).padStart(8, "0")).join("");
  }

  // -- the outbreak data API (docs/outbreak.md) ------------------------------------------

  const enc = encodeURIComponent;
  const figurePath = (region, date, metric) => `/v1/outbreak/figures/${enc(region)}/${enc(date)}/${enc(metric)}`;
  const DATA = {
    regions: (parent) => api(`/v1/outbreak/regions${parent ? `?parent=${enc(parent)}` : ""}`),
    region: (region) => api(`/v1/outbreak/regions/${enc(region)}`),
    series: (region, metric) => api(`/v1/outbreak/regions/${enc(region)}/series?metric=${metric}`),
    totals: () => api("/v1/outbreak/totals"),
    provenance: (region, date, metric) => api(figurePath(region, date, metric)),
    proofUrl: (region, date, metric, reporter, version, cbor) => {
      const params = new URLSearchParams({ reporter, version: String(version) });
      if (cbor) params.set("format", "cbor");
      return `${figurePath(region, date, metric)}/proof?${params}`;
    },
    verify: (bundle) => postJson("/v1/outbreak/verify", { bundle }),
    download: (metric, kind) => `/v1/outbreak/download/time_series_covid19_${metric}_global.${kind}`,
  };

  // Organisation ids are shown with their registered names (identity org/<id>).
  const orgNames = new Map();
  async function reporterLabel(reporter) {
    if (reporter.startsWith("did:")) return shortHash(reporter, 14);
    if (!orgNames.has(reporter)) {
      orgNames.set(
        reporter,
        api(`/v1/state/identity/org/${enc(reporter)}`).then((entry) => entry.value.name).catch(() => null),
      );
    }
    const name = await orgNames.get(reporter);
    return el("span", {}, name || reporter, name ? el("span", { class: "muted" }, ` (${reporter})`) : "");
  }

  // -- page state --------------------------------------------------------------------

  const state = {
    metric: "confirmed",
    measure: "total",
    view: "cumulative",
    region: null,
    height: null,
    top: [], // top-level regions with their latest figures (map and table)
    known: new Map(), // region -> entry (name, parent, population, figures) seen so far
    children: new Map(), // parent -> [entries], loaded when a row is expanded
    totals: null,
    series: null,
    sort: { key: "value", descending: true },
    expanded: new Set(),
    world: null,
    codes: null, // ISO 3166-1 numeric -> alpha-2, from /v1/dashboard/country-codes
    postsOffset: 0,
  };

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const metric = params.get("metric");
    if (METRICS.includes(metric)) state.metric = metric;
    const measure = params.get("measure");
    if (measure === "total" || measure === "per100k") state.measure = measure;
    const view = params.get("view");
    if (view in VIEW_NAMES) state.view = view;
    state.region = params.get("region") || state.region;
  }

  function writeHash() {
    const params = new URLSearchParams();
    if (state.region) params.set("region", state.region);
    params.set("metric", state.metric);
    if (state.measure !== "total") params.set("measure", state.measure);
    if (state.view !== "cumulative") params.set("view", state.view);
    history.replaceState(null, "", `#${params.toString()}`);
  }

  function regionName(code) {
    const entry = state.known.get(code);
    return entry ? entry.name : code;
  }

  function latest(entry, metric) {
    return (entry && entry.figures && entry.figures[metric]) || null;
  }

  function mapValue(entry) {
    const figure = latest(entry, state.metric);
    if (!figure) return null;
    return state.measure === "per100k" ? figure.cumulative_per100k : figure.cumulative;
  }

  function remember(entries) {
    for (const entry of entries) state.known.set(entry.region, entry);
  }

  // -- overview: status, totals, map, table ------------------------------------------

  function renderStatus(update, asOf) {
    $("last-update").replaceChildren(update ? time(update.time_ms) : "no figures yet");
    const dates = Object.values((state.totals && state.totals.figures) || {}).map((f) => f.date);
    $("last-date").textContent = dates.length ? dates.sort().at(-1) : "—";
    $("status-height").textContent = String(asOf);
    const live = $("status-live");
    live.textContent = `live · checked ${new Date().toLocaleTimeString()}`;
    live.classList.remove("offline");
  }

  function renderTotals() {
    const figures = (state.totals && state.totals.figures) || {};
    $("global-totals").replaceChildren(
      ...METRICS.map((metric) => {
        const total = figures[metric];
        return el(
          "li",
          { class: `total total-${metric}`, testid: `total-${metric}` },
          el("div", { class: "total-label" }, `${METRIC_NAMES[metric]} worldwide`),
          el("div", { class: "total-value", testid: "total-value" }, total ? fmt(total.cumulative) : "—"),
          el(
            "div",
            { class: "total-new" },
            total ? `${total.new === null ? "" : `${total.new >= 0 ? "+" : ""}${fmt(total.new)} on `}${total.date} · ${total.regions} regions` : "not reported",
          ),
        );
      }),
    );
  }

  function renderDownloads() {
    const present = METRICS.filter((m) => state.totals && state.totals.figures[m]);
    const slot = document.querySelector('[data-testid="downloads"] .download-links');
    slot.replaceChildren(
      ...present.flatMap((metric) => [
        el("a", { class: "button secondary", href: DATA.download(metric, "csv"), download: "", testid: "download-csv", title: `JHU CSSE global time series of ${metric}, as CSV` }, `${METRIC_NAMES[metric]} CSV`),
        el("a", { class: "button secondary", href: DATA.download(metric, "json"), download: "", testid: "download-json", title: `the same as JSON` }, "JSON"),
      ]),
    );
    if (!present.length) slot.replaceChildren(el("span", { class: "muted" }, "nothing to download yet"));
  }

  function renderRegionNames() {
    const list = document.getElementById("region-names");
    const entries = [...state.known.values()].sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(...entries.map((e) => el("option", { value: `${e.name} (${e.region})` })));
  }

  // Class breaks on a log scale, so a map of counts spanning six orders of magnitude
  // still shows differences among small countries.
  function breaks(values) {
    const positive = values.filter((v) => v > 0);
    if (!positive.length) return [];
    const lo = Math.log10(Math.min(...positive));
    const hi = Math.log10(Math.max(...positive));
    if (hi - lo < 1e-9) return [Math.max(...positive)];
    const result = [];
    for (let i = 1; i < CLASSES; i++) result.push(10 ** (lo + ((hi - lo) * i) / CLASSES));
    return result;
  }

  function classOf(value, limits) {
    if (value === null || value === undefined) return null;
    let index = 0;
    while (index < limits.length && value > limits[index]) index++;
    return `q${Math.min(index, CLASSES - 1)}`;
  }

  let tooltip = null;

  function drawMap() {
    const container = $("map");
    const width = 960;
    const height = 500;
    const projection = d3.geoEqualEarth().fitExtent([[4, 4], [width - 4, height - 4]], { type: "Sphere" });
    const path = d3.geoPath(projection);
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "World map of the selected metric by country; the table below has the same figures" });
    root.append(svg("path", { class: "sphere", d: path({ type: "Sphere" }) }));
    const layer = svg("g", {});
    const world = state.world;
    for (const feature of topojson.feature(world, world.objects.countries).features) {
      // world-atlas gives Kosovo (and a few disputed areas) no ISO numeric id.
      const numeric = feature.id !== undefined ? String(feature.id).padStart(3, "0") : feature.properties.name === "Kosovo" ? "383" : null;
      layer.append(svg("path", { class: "country no-data", d: path(feature), "data-numeric": numeric, "data-name": feature.properties.name }));
    }
    root.append(layer);
    layer.addEventListener("click", (event) => {
      const code = event.target.dataset && event.target.dataset.region;
      if (code) selectRegion(code);
    });
    layer.addEventListener("mousemove", (event) => {
      const target = event.target;
      if (!target.dataset || !target.dataset.name) return hideTooltip();
      if (!tooltip) {
        tooltip = el("div", { class: "map-tooltip", role: "presentation" });
        document.body.append(tooltip);
      }
      tooltip.hidden = false;
      tooltip.textContent = target.dataset.tip || `${target.dataset.name}: no figure`;
      tooltip.style.left = `${event.clientX + 12}px`;
      tooltip.style.top = `${event.clientY + 12}px`;
    });
    layer.addEventListener("mouseleave", hideTooltip);
    container.replaceChildren(root);
  }

  function hideTooltip() {
    if (tooltip) tooltip.hidden = true;
  }

  function colourMap() {
    if (!state.world || !state.codes) return;
    const byNumeric = new Map();
    for (const [numeric, iso2] of Object.entries(state.codes)) {
      const entry = state.known.get(iso2);
      if (entry) byNumeric.set(numeric, entry);
    }
    const values = [...byNumeric.values()].map(mapValue).filter((v) => v !== null && v !== undefined);
    const limits = breaks(values);
    const per = state.measure === "per100k";
    let coloured = 0;
    for (const shape of document.querySelectorAll('[data-testid="map"] path.country')) {
      const entry = byNumeric.get(shape.dataset.numeric);
      const value = mapValue(entry);
      const cls = classOf(value, limits);
      shape.setAttribute("class", `country ${cls || "no-data"}${entry && entry.region === state.region ? " selected" : ""}`);
      if (entry) {
        shape.dataset.region = entry.region;
        const shown = value === null || value === undefined ? "no figure" : per ? fmtRate(value) : fmt(value);
        shape.dataset.tip = `${entry.name}: ${shown} ${METRIC_NAMES[state.metric].toLowerCase()}${per ? " per 100,000" : ""}`;
        if (cls) coloured++;
      } else {
        delete shape.dataset.region;
        delete shape.dataset.tip;
      }
    }
    $("map").dataset.coloured = String(coloured);
    renderLegend(limits, values.length);
  }

  function renderLegend(limits, count) {
    const legend = $("legend");
    const unit = state.measure === "per100k" ? "per 100,000 people" : "cumulative";
    const title = el("span", { class: "legend-title" }, `${METRIC_NAMES[state.metric]}, ${unit}:`);
    if (!count) {
      legend.replaceChildren(title, el("span", { class: "muted" }, " no country has this figure yet"));
      return;
    }
    const show = state.measure === "per100k" ? fmtRate : (v) => fmt(Math.round(v));
    const items = [];
    const edges = [0, ...limits];
    for (let i = 0; i < edges.length && i < CLASSES; i++) {
      let label;
      if (edges.length === 1) label = show(limits[0] || 0);
      else if (i === 0) label = `≤ ${show(edges[1])}`;
      else if (i === edges.length - 1) label = `> ${show(edges[i])}`;
      else label = `${show(edges[i])} – ${show(edges[i + 1])}`;
      items.push(el("span", { class: "legend-item", testid: "legend-item" }, el("span", { class: `swatch q${i}`, "aria-hidden": "true" }), label));
    }
    items.push(el("span", { class: "legend-item" }, el("span", { class: "swatch", "aria-hidden": "true" }), "no figure"));
    legend.replaceChildren(title, ...items);
  }

  const COLUMNS = [
    ["name", "Country / region", false],
    ...METRICS.map((m) => [m, METRIC_NAMES[m], true]),
    ["per100k", "Per 100,000", true],
    ["date", "As of", false],
  ];

  function sortValue(entry, key) {
    if (key === "name") return entry.name;
    const figure = latest(entry, key === "per100k" || key === "date" ? state.metric : key);
    if (!figure) return null;
    if (key === "date") return figure.date;
    if (key === "per100k") return figure.cumulative_per100k;
    return figure.cumulative;
  }

  function sorted(entries) {
    const { key, descending } = state.sort;
    const effective = key === "value" ? state.metric : key;
    return [...entries].sort((a, b) => {
      const x = sortValue(a, effective);
      const y = sortValue(b, effective);
      if (x === y) return a.name.localeCompare(b.name);
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      const order = typeof x === "string" ? x.localeCompare(y) : x - y;
      return descending ? -order : order;
    });
  }

  async function toggle(entry) {
    if (state.expanded.has(entry.region)) {
      state.expanded.delete(entry.region);
    } else {
      state.expanded.add(entry.region);
      if (!state.children.has(entry.region)) {
        try {
          const body = await DATA.regions(entry.region);
          remember(body.regions);
          state.children.set(entry.region, body.regions);
        } catch (error) {
          state.expanded.delete(entry.region);
          $("region-table").prepend(problem(error));
        }
      }
    }
    renderTable();
    const button = document.querySelector(`[data-testid="region-row"][data-region="${CSS.escape(entry.region)}"] [data-testid="expand-region"]`);
    if (button) button.focus();
  }

  function tableRow(entry, depth) {
    const open = state.expanded.has(entry.region);
    const select = () => selectRegion(entry.region);
    const figure = latest(entry, state.metric);
    const row = el(
      "tr",
      {
        class: `${depth ? "child" : ""}${entry.region === state.region ? " selected" : ""}`,
        tabindex: 0,
        testid: "region-row",
        "data-region": entry.region,
        "aria-selected": entry.region === state.region ? "true" : "false",
        onclick: (event) => { if (!event.target.closest("button")) select(); },
        onkeydown: (event) => {
          if (event.target !== event.currentTarget) return;
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            select();
          }
        },
      },
      el(
        "th",
        { scope: "row" },
        entry.subdivisions
          ? el("button", {
              type: "button",
              class: "expander",
              testid: "expand-region",
              "aria-expanded": open ? "true" : "false",
              "aria-label": `${open ? "Hide" : "Show"} the ${entry.subdivisions} regions of ${entry.name}`,
              onclick: () => toggle(entry),
            }, open ? "▾" : "▸")
          : null,
        entry.name,
      ),
      ...METRICS.map((m) => {
        const f = latest(entry, m);
        return el("td", { class: "num", title: f && f.derived ? `sum of ${f.contributors} regions` : null }, f ? fmt(f.cumulative) : "—");
      }),
      el("td", { class: "num" }, figure ? fmtRate(figure.cumulative_per100k) : "—"),
      el("td", {}, figure ? figure.date : "—"),
    );
    const rows = [row];
    if (open) for (const child of sorted(state.children.get(entry.region) || [])) rows.push(...tableRow(child, depth + 1));
    return rows;
  }

  function renderTable() {
    const top = state.top;
    const header = COLUMNS.map(([key, label, numeric]) => {
      const active = state.sort.key === key || (state.sort.key === "value" && key === state.metric);
      const direction = active ? (state.sort.descending ? "descending" : "ascending") : "none";
      return el(
        "th",
        { scope: "col", class: numeric ? "num" : "", "aria-sort": direction },
        el("button", {
          type: "button",
          testid: `sort-${key}`,
          onclick: () => {
            const same = state.sort.key === key || (state.sort.key === "value" && key === state.metric);
            state.sort = { key, descending: same ? !state.sort.descending : numeric };
            renderTable();
            document.querySelector(`[data-testid="sort-${key}"]`).focus();
          },
        }, label, active ? (state.sort.descending ? " ↓" : " ↑") : ""),
      );
    });
    const rows = sorted(top).flatMap((entry) => tableRow(entry, 0));
    $("region-table").replaceChildren(
      el(
        "table",
        { class: "table", testid: "regions" },
        el("caption", {}, `${top.length} countries and regions. Per 100,000 and "as of" are for ${METRIC_NAMES[state.metric].toLowerCase()}. Select a row with a click or Enter; ▸ shows a country's regions.`),
        el("thead", {}, el("tr", {}, header)),
        el("tbody", {}, rows),
      ),
    );
  }

  async function refresh() {
    try {
      const totals = await DATA.totals();
      const changed = totals.as_of !== state.height;
      state.totals = totals;
      renderStatus(totals.last_update, totals.as_of);
      if (!changed) return;
      const first = state.height === null;
      state.height = totals.as_of;
      const body = await DATA.regions();
      state.top = body.regions;
      remember(body.regions);
      // Re-read the opened countries' regions: their figures may have changed too.
      for (const parent of state.expanded) {
        const kids = await DATA.regions(parent);
        remember(kids.regions);
        state.children.set(parent, kids.regions);
      }
      renderTotals();
      renderDownloads();
      renderRegionNames();
      colourMap();
      renderTable();
      if (first && !state.region) {
        const biggest = sorted(state.top)[0];
        if (biggest) state.region = biggest.region;
        writeHash();
      }
      if (state.region) await renderRegion(!first);
      await renderPosts();
    } catch (error) {
      const live = $("status-live");
      live.textContent = `node unreachable: ${error.message}`;
      live.classList.add("offline");
    }
  }

  // -- the selected region: figures, chart, series table -----------------------------

  function selectRegion(code) {
    if (!code) return;
    state.region = code;
    writeHash();
    colourMap();
    renderTable();
    hideProvenance();
    renderRegion(false);
  }

  let chart = null;

  const VIEW_LINES = {
    cumulative: [["cumulative", "Cumulative"]],
    daily: [["new", "Daily new"], ["avg7", "7-day average"]],
    avg7: [["avg7", "7-day average"]],
    per100k: [["cumulative_per100k", "Per 100,000"]],
  };

  function drawChart() {
    const series = state.series;
    const container = $("chart");
    if (chart) {
      chart.destroy();
      chart = null;
    }
    const note = $("chart-note");
    container.dataset.points = "0";
    container.dataset.view = state.view;
    if (!series) {
      container.replaceChildren(el("p", { class: "muted" }, `No ${METRIC_NAMES[state.metric].toLowerCase()} figures for this region.`));
      note.textContent = "";
      return;
    }
    if (state.view === "per100k" && !series.population) {
      container.replaceChildren(el("p", { class: "muted", testid: "no-population" }, "Per 100,000 is not shown: this region's population is not known."));
      note.textContent = "";
      return;
    }
    const lines = VIEW_LINES[state.view];
    const xs = series.dates.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const ys = lines.map(([field]) => series[field] || []);
    const points = ys[0].filter((v) => v !== null && v !== undefined).length;
    const width = Math.max(280, container.clientWidth || 600);
    const colour = METRIC_COLOURS[state.metric];
    const rate = state.view === "avg7" || state.view === "per100k";
    // The page's colour tokens, so the chart follows the light or dark scheme.
    const { ink, axis } = chartColours();
    container.replaceChildren();
    container.setAttribute("aria-label", `${METRIC_NAMES[state.metric]}, ${VIEW_NAMES[state.view]}, in ${series.name} from ${series.start} to ${series.end}; the table below lists every day`);
    chart = new uPlot(
      {
        width,
        height: 300,
        scales: { x: { time: true } },
        axes: [{ ...axis }, { ...axis, values: (u, ticks) => ticks.map((t) => (Math.abs(t) >= 1e6 ? `${t / 1e6}M` : Math.abs(t) >= 1e3 ? `${t / 1e3}k` : t)), size: 60 }],
        series: [
          { label: "Date", value: (u, v) => (v === null ? "—" : new Date(v * 1000).toISOString().slice(0, 10)) },
          ...lines.map(([field, label], i) => ({
            label,
            stroke: i === 0 ? colour : ink,
            fill: i === 0 && field === "new" ? `${colour}55` : undefined,
            width: i === 0 ? 2 : 1.5,
            dash: i === 1 ? [6, 4] : undefined,
            paths: field === "new" && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 12] }) : undefined,
            value: (u, v) => (v === null || v === undefined ? "—" : rate || field.startsWith("avg7") ? fmtRate(v) : fmt(v)),
          })),
        ],
      },
      [xs, ...ys],
      container,
    );
    container.dataset.points = String(points);
    const notes = [
      `${METRIC_NAMES[state.metric]}, ${VIEW_NAMES[state.view]}: ${points} days with a figure, ${series.start} to ${series.end}.`,
      series.derived ? "This region has no figures of its own: the sum of its regions." : `Reporter: ${series.reporter}.`,
    ];
    if (series.conflicts && series.conflicts.length) {
      notes.push(`Reporters disagree on ${series.conflicts.length} day(s): ${series.conflicts.slice(0, 3).map((c) => c.date).join(", ")}${series.conflicts.length > 3 ? "…" : ""} (open a figure to see each).`);
    }
    note.textContent = notes.join(" ");
  }

  function figureButton(metric, date, value, opts) {
    const { label, extra, derived } = opts || {};
    const attrs = {
      type: "button",
      class: label ? "figure" : "link",
      testid: label ? "figure" : "series-figure",
      "data-metric": metric,
      "data-date": date,
      "aria-label": `${METRIC_NAMES[metric]} ${fmt(value)} on ${date}: show who reported it, its corrections and its proof`,
      onclick: () => openProvenance(state.region, date, metric),
    };
    if (derived) {
      attrs["aria-label"] = `${METRIC_NAMES[metric]} ${fmt(value)} on ${date}: the sum of this region's subdivisions`;
      attrs.onclick = () => showDerived(metric, date);
    }
    return el(
      "button",
      attrs,
      label ? el("span", { class: "figure-label" }, label) : null,
      label ? el("span", { class: "figure-value" }, fmt(value)) : fmt(value),
      extra || null,
    );
  }

  function renderSeriesTable(series) {
    const rows = [];
    for (let i = series.dates.length - 1; i >= 0; i--) {
      const date = series.dates[i];
      const total = series.cumulative[i];
      const fresh = series.new[i];
      rows.push(
        el(
          "tr",
          {},
          el("th", { scope: "row" }, date),
          el("td", { class: "num" }, total === null ? "—" : figureButton(state.metric, date, total, { derived: series.derived })),
          el("td", { class: "num" }, fresh === null ? "—" : fmt(fresh)),
          el("td", { class: "num" }, series.avg7[i] === null ? "—" : fmtRate(series.avg7[i])),
        ),
      );
    }
    $("series-table").replaceChildren(
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "table" },
          el("caption", {}, `${METRIC_NAMES[state.metric]} in ${series.name}, newest first`),
          el("thead", {}, el("tr", {}, ["Date", "Cumulative", "New", "7-day average"].map((h, i) => el("th", { scope: "col", class: i ? "num" : "" }, h)))),
          el("tbody", {}, rows),
        ),
      ),
    );
  }

  async function renderRegion(keepProvenance) {
    const code = state.region;
    $("region-name").textContent = regionName(code);
    let region;
    let series = null;
    try {
      region = await DATA.region(code);
      remember([region, ...region.children]);
      if (region.children.length) state.children.set(code, region.children);
      try {
        series = await DATA.series(code, state.metric);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
    } catch (error) {
      if (code !== state.region) return;
      state.series = null;
      $("region-meta").textContent = "";
      $("region-figures").replaceChildren(problem(error));
      drawChart();
      return;
    }
    if (code !== state.region) return;
    state.series = series;
    $("region-name").textContent = region.name;
    $("region-meta").textContent = [
      region.population ? `population ${fmt(region.population)}` : "population not known (no per 100,000 figures)",
      `region ${region.region}`,
      region.subdivisions ? `${region.subdivisions} regions below it` : null,
    ].filter(Boolean).join(" · ");
    const crumbs = [];
    if (region.parent) {
      crumbs.push(el("button", { type: "button", class: "link", testid: "parent-region", onclick: () => selectRegion(region.parent) }, `↑ ${regionName(region.parent)}`));
    }
    for (const child of region.children.slice(0, 12)) {
      crumbs.push(el("button", { type: "button", class: "link", testid: "child-region", onclick: () => selectRegion(child.region) }, child.name));
    }
    $("region-breadcrumbs").replaceChildren(...crumbs);
    $("region-figures").replaceChildren(
      ...METRICS.flatMap((metric) => {
        const figure = latest(region, metric);
        if (!figure) return [];
        const flags = [];
        if (figure.derived) flags.push(`sum of ${figure.contributors} regions`);
        if (figure.reporters > 1) flags.push(`${figure.reporters} reporters`);
        if (figure.conflicts) flags.push(`${figure.conflicts} day(s) in conflict`);
        return figureButton(metric, figure.date, figure.cumulative, {
          label: `${METRIC_NAMES[metric]} · ${figure.date}`,
          extra: el("span", { class: "figure-flags" }, flags.join(" · ")),
          derived: figure.derived,
        });
      }),
    );
    drawChart();
    if (series) renderSeriesTable(series);
    else $("series-table").replaceChildren(el("p", { class: "muted" }, "No figures."));
    if (!keepProvenance) hideProvenance();
  }

  // -- provenance and verification ------------------------------------------------------

  function hideProvenance() {
    $("provenance").hidden = true;
  }

  function showDerived(metric, date) {
    const panel = $("provenance");
    panel.hidden = false;
    $("provenance-title").textContent = `${METRIC_NAMES[metric]} in ${regionName(state.region)} on ${date}`;
    $("provenance-body").replaceChildren(
      el("p", { testid: "derived-note" }, "Nobody reported this figure for the region as a whole: it is the sum of the figures of its regions, each with its own reporter, history and proof. Pick one of them (above, or ▸ in the table) to see its provenance."),
    );
    panel.focus();
  }

  // The steps that passed, then the one that failed (if any): a verifier stops at its
  // first failure, so there is nothing after it to show.
  function stepList(steps, failedStep, failedReason) {
    const name = (step) => STEP_NAMES[step] || step;
    const items = steps.map((s) => stepItem({ step: s.step, result: "passed", name: name(s.step), detail: s.detail }));
    if (failedStep) items.push(stepItem({ step: failedStep, result: "failed", name: name(failedStep), detail: failedReason }));
    return el("ol", { class: "steps", testid: "steps", "aria-label": "Verification steps" }, items);
  }

  function sourceOf(v) {
    if (v.source === "batch") {
      return el("span", {}, "row ", String(v.row), " of batch ", shortHash(v.batch, 8, "version-batch"));
    }
    return el("span", {}, `ledger report, version ${v.ledger_version}`);
  }

  function versionList(versions, verifyVersion) {
    return el(
      "ol",
      { class: "versions", testid: "versions" },
      versions.map((v) =>
        el(
          "li",
          { class: `version${v.current ? " current" : ""}`, testid: "version", "data-version": v.version, "data-current": v.current ? "true" : "false" },
          el("strong", {}, `Version ${v.version}: `, el("span", { testid: "version-value" }, fmt(v.value))),
          ` ${v.basis}${v.current ? " · current" : ""}`,
          el(
            "div",
            { class: "small" },
            "block ",
            el("a", { href: `/explorer/#/block/${v.height}` }, v.height),
            " · ",
            time(v.time_ms),
            " · tx ",
            el("a", { href: `/explorer/#/tx/${v.tx_id}`, title: v.tx_id }, short(v.tx_id, 6)),
            " · ",
            sourceOf(v),
          ),
          v.reason ? el("div", { class: "version-reason", testid: "version-reason" }, `Reason: ${v.reason}`) : null,
          v.current || !verifyVersion
            ? null
            : el("button", { type: "button", class: "link small", testid: "verify-version", onclick: (event) => verifyVersion(event, v.version) }, `Verify version ${v.version}`),
        ),
      ),
    );
  }

  function reporterCard(figure, entry) {
    const current = entry.current;
    const label = el("span", {}, entry.reporter);
    reporterLabel(entry.reporter).then((node) => label.replaceChildren(node));
    const verdict = el("div", { testid: "verdict-panel", role: "status", "aria-live": "polite" });
    const { region, date, metric } = figure;
    const verify = async (event, version) => {
      const button = event.currentTarget;
      button.disabled = true;
      verdict.replaceChildren(el("p", { class: "muted" }, `Fetching the proof bundle of version ${version} and verifying it…`));
      try {
        const proof = await api(DATA.proofUrl(region, date, metric, entry.reporter, version, false));
        const result = await DATA.verify(proof.bundle);
        verdict.replaceChildren(verdictBox(result, `Version ${version}`), stepList(result.steps || [], result.valid ? null : result.step, result.reason));
      } catch (error) {
        verdict.replaceChildren(problem(error));
      } finally {
        button.disabled = false;
      }
    };
    return el(
      "section",
      { class: `reporter-card${figure.conflict ? " conflict" : ""}`, testid: "reporter-card", "data-reporter": entry.reporter, "aria-label": `Reported by ${entry.reporter}` },
      fields([
        ["Reporter", label, "provenance-reporter"],
        ["Value", el("strong", { testid: "provenance-value" }, fmt(current.value)), null],
        ["Basis", current.basis],
        ["Signed by", hash(current.signed_by)],
        ["Block", el("span", {}, el("a", { href: `/explorer/#/block/${current.height}`, testid: "provenance-block" }, current.height), " · ", time(current.time_ms))],
        ["From", sourceOf(current)],
        ["Transaction", el("a", { href: `/explorer/#/tx/${current.tx_id}`, title: current.tx_id }, short(current.tx_id))],
      ]),
      el("h3", {}, entry.corrected ? `History: ${entry.versions.length} versions` : "History: 1 version"),
      versionList(entry.versions, verify),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", testid: "verify-figure", onclick: (event) => verify(event, current.version) }, "Verify"),
        el("a", { class: "button secondary", href: DATA.proofUrl(region, date, metric, entry.reporter, current.version, true), download: "", testid: "proof-download" }, "Download proof"),
      ),
      verdict,
    );
  }

  async function openProvenance(region, date, metric) {
    const panel = $("provenance");
    const body = $("provenance-body");
    panel.hidden = false;
    $("provenance-title").textContent = `${METRIC_NAMES[metric]} in ${regionName(region)} on ${date}`;
    body.replaceChildren(el("p", { class: "muted" }, "Loading the figure's history…"));
    panel.focus();
    let figure;
    try {
      figure = await DATA.provenance(region, date, metric);
    } catch (error) {
      body.replaceChildren(problem(error));
      return;
    }
    const many = figure.reporters.length > 1;
    body.replaceChildren(
      ...[
        many
        ? el("p", { class: figure.conflict ? "notice" : "muted", testid: "conflict-note" },
            figure.conflict
              ? `${figure.reporters.length} reporters disagree on this figure. Their reports are shown side by side; none is merged or preferred silently (the map and chart use ${figure.reporters[0].reporter}'s, who reported the most figures).`
              : `${figure.reporters.length} reporters stated this figure, with the same value.`)
        : null,
        el("div", { class: many ? "reporters side-by-side" : "reporters", testid: "reporters" }, figure.reporters.map((entry) => reporterCard(figure, entry))),
      ].filter(Boolean),
    );
  }

  // -- public posts -----------------------------------------------------------------------

  // Two checks: the post's bytes hash to the anchored digest (in this browser), and the
  // anchor's state proof verifies against the genesis (the core verifier, POST /v1/verify)
  // and proves notary/anchor/<that digest> present.
  async function verifyPost(post, slot) {
    slot.replaceChildren(el("p", { class: "muted" }, "Re-hashing the post and checking its anchor…"));
    const show = (result, steps, failed) =>
      slot.replaceChildren(verdictBox(result, "This post"), stepList(steps, failed ? failed.step : null, failed ? failed.reason : null));
    try {
      const bytes = new Uint8Array(await (await fetch(post.blob)).arrayBuffer());
      const digest = await sha256Hex(bytes);
      if (digest !== post.digest) {
        const reason = `the stored post hashes to ${digest}, not to the anchored ${post.digest}`;
        show({ valid: false, step: "hash", reason }, [], { step: "hash", reason });
        return;
      }
      const steps = [{ step: "hash", detail: `SHA-256 of the post's ${bytes.length} bytes is the anchored digest` }];
      const proof = await api(post.proof);
      const result = await postJson("/v1/verify", { bundle: proof.bundle });
      const facts = result.facts || {};
      let failure = null;
      if (!result.valid) failure = `the proof fails at its ${result.step} step: ${result.reason}`;
      else if (facts.key !== `notary/anchor/${post.digest}` || !facts.present) failure = `the proof is about ${facts.key}, not this post's anchor`;
      if (failure) {
        show({ valid: false, step: "anchor", reason: failure }, steps, { step: "anchor", reason: failure });
        return;
      }
      const anchor = facts.value || {};
      steps.push({ step: "anchor", detail: `${result.reason}: anchored by ${anchor.by} at block ${anchor.height}` });
      show({ valid: true, step: "done", reason: `this post existed, unchanged, at block ${anchor.height} (${new Date(anchor.time_ms).toISOString()})` }, steps, null);
    } catch (error) {
      slot.replaceChildren(problem(error));
    }
  }

  // The server already drops links that are not http(s); the page checks again, so a
  // javascript: or data: URL can never become a clickable href here.
  function safeLink(url) {
    if (typeof url !== "string") return null;
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function postItem(post) {
    const verdict = el("div", { role: "status", "aria-live": "polite", testid: "post-verdict" });
    const link = safeLink(post.url);
    const org = post.anchor.org || {};
    const published = post.published ? new Date(post.published) : null;
    const title = post.title || post.summary || "(no title)";
    return el(
      "li",
      { class: "post", testid: "post", "data-digest": post.digest },
      el(
        "div",
        { class: "post-head" },
        published ? el("time", { datetime: post.published, testid: "post-time" }, published.toLocaleString()) : null,
        el("span", { testid: "post-source" }, post.source || "unknown source"),
      ),
      el(
        "p",
        { class: "post-title" },
        link ? el("a", { href: link, rel: "noopener noreferrer nofollow", target: "_blank", testid: "post-link" }, title) : title,
      ),
      post.link_refused ? el("p", { class: "notice", testid: "post-link-refused" }, `Link not shown: ${post.link_refused}.`) : null,
      post.summary && post.title ? el("p", { class: "post-summary" }, post.summary) : null,
      post.stored ? null : el("p", { class: "notice" }, "The post itself is not stored on this node; only its anchor is."),
      el(
        "p",
        { class: "post-anchor" },
        "Anchored by ",
        el("strong", { testid: "post-org", title: `organisation ${org.id || "?"}, key ${post.anchor.by}` }, org.name || org.id || post.anchor.by),
        " at block ",
        el("a", { href: `/explorer/#/block/${post.anchor.height}`, testid: "post-block" }, post.anchor.height),
        " (",
        time(post.anchor.time_ms),
        ") · SHA-256 ",
        shortHash(post.digest, 8),
        " ",
        post.stored ? el("button", { type: "button", class: "secondary", testid: "verify-post", onclick: () => verifyPost(post, verdict) }, "Verify") : null,
      ),
      verdict,
    );
  }

  async function renderPosts() {
    const slot = $("posts");
    try {
      const page = await api(`/v1/posts?offset=${state.postsOffset}&limit=${POSTS_PAGE}`);
      if (!page.total) {
        slot.replaceChildren(el("p", { class: "muted" }, "No public posts yet. Import some with `salus posts import FEED --keywords covid`."));
        return;
      }
      const last = Math.min(state.postsOffset + POSTS_PAGE, page.total);
      slot.replaceChildren(
        el("ul", { class: "posts", testid: "post-list" }, page.posts.map(postItem)),
        el(
          "div",
          { class: "pager" },
          el("button", { type: "button", class: "secondary", disabled: state.postsOffset === 0, onclick: () => { state.postsOffset = Math.max(0, state.postsOffset - POSTS_PAGE); renderPosts(); } }, "← Newer"),
          el("span", { testid: "posts-page" }, `${state.postsOffset + 1}–${last} of ${page.total}`),
          el("button", { type: "button", class: "secondary", disabled: last >= page.total, onclick: () => { state.postsOffset += POSTS_PAGE; renderPosts(); } }, "Older →"),
        ),
      );
    } catch (error) {
      slot.replaceChildren(problem(error));
    }
  }

  // -- wiring ---------------------------------------------------------------------------

  function bindControls() {
    const metric = $("metric");
    const measure = $("measure");
    metric.value = state.metric;
    measure.value = state.measure;
    metric.addEventListener("change", () => {
      state.metric = metric.value;
      writeHash();
      colourMap();
      renderTable();
      if (state.region) renderRegion(false);
    });
    measure.addEventListener("change", () => {
      state.measure = measure.value;
      writeHash();
      colourMap();
    });
    for (const radio of document.querySelectorAll('input[name="view"]')) {
      radio.checked = radio.value === state.view;
      radio.addEventListener("change", () => {
        if (!radio.checked) return;
        state.view = radio.value;
        writeHash();
        drawChart();
      });
    }
    const search = $("region-search");
    search.addEventListener("change", () => {
      const text = search.value.trim();
      const code = /\(([^()]+)\)$/.exec(text);
      const wanted = code ? code[1] : text;
      search.setCustomValidity("");
      if (!wanted) return;
      for (const entry of state.known.values()) {
        if (entry.region.toLowerCase() === wanted.toLowerCase() || entry.name.toLowerCase() === wanted.toLowerCase()) {
          selectRegion(entry.region);
          search.value = "";
          return;
        }
      }
      search.setCustomValidity(`No country or region named "${wanted}" has figures here.`);
      search.reportValidity();
    });
    $("provenance-close").addEventListener("click", hideProvenance);
    // A link to another view of this page (or the back button) changes only the hash.
    window.addEventListener("hashchange", () => {
      const before = { ...state };
      readHash();
      metric.value = state.metric;
      measure.value = state.measure;
      for (const radio of document.querySelectorAll('input[name="view"]')) radio.checked = radio.value === state.view;
      if (state.metric !== before.metric || state.measure !== before.measure) {
        colourMap();
        renderTable();
      }
      if (state.region !== before.region || state.metric !== before.metric || state.view !== before.view) {
        selectRegion(state.region);
      }
    });
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (chart) chart.setSize({ width: Math.max(280, $("chart").clientWidth), height: 300 });
      }, 150);
    });
  }

  async function start() {
    readHash();
    bindControls();
    try {
      const [world, codes] = await Promise.all([
        fetch("vendor/countries-110m.json").then((r) => r.json()),
        api("/v1/dashboard/country-codes"),
      ]);
      state.world = world;
      state.codes = codes;
      drawMap();
    } catch (error) {
      $("map").replaceChildren(problem(error));
    }
    await refresh();
    writeHash();
    setInterval(refresh, REFRESH_MS);
  }

  start();
})();
