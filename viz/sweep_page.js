// The sweep page's behaviour: plain JavaScript, no library, no network.
// Data from Python (viz/sweep_page.py) is read from the JSON block and put into the
// page as text only (textContent), never as HTML.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("sweep-data").textContent);
  const entries = data.entries;
  for (const e of entries) {            // empty fields are left out of the data
    for (const k of ["scope", "inEdges", "backEdges", "sendEdges", "users", "rules"]) e[k] = e[k] || [];
    e.node = e.node || null; e.outNode = e.outNode || null;
  }
  const n = entries.length;
  const steps = 2 * n;                  // n forward, then n backward
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // the drawn nodes and edges, by their Graphviz names (the <title> of each group)
  const svgNodes = new Map(), svgEdges = new Map();
  document.querySelectorAll("#graph svg g.node, #graph svg g.edge").forEach((g) => {
    const t = g.querySelector("title");
    if (t) (g.classList.contains("node") ? svgNodes : svgEdges).set(t.textContent, g);
  });
  // a value's "grad …" line in its label is shown once the sweep has completed it: at
  // its own entry for a computed value, after the last of its users for a leaf
  const outNodes = new Set(entries.map((e) => e.outNode).filter(Boolean));
  const gradFrom = new Map();           // node name -> the entry whose reading completes it
  entries.forEach((e, j) => { if (e.outNode) gradFrom.set(e.outNode, j); });
  entries.forEach((e, j) => {
    for (const edge of e.inEdges || []) {
      const src = edge.split("->")[0];
      if (!outNodes.has(src) && svgNodes.has(src)) gradFrom.set(src, Math.min(gradFrom.get(src) ?? j, j));
    }
  });
  const gradTexts = [];                 // [text element, node name]
  for (const [name, g] of svgNodes) {
    for (const t of g.querySelectorAll("text")) {
      if (t.textContent.startsWith("grad ")) gradTexts.push([t, name]);
    }
  }
  const entryOfNode = new Map();        // node name -> first entry drawn as it
  entries.forEach((e, i) => {
    for (const name of [e.node, e.outNode]) {
      if (name && !entryOfNode.has(name)) entryOfNode.set(name, i);
    }
  });

  $("title").textContent = data.title;
  if (data.note) $("note").textContent = data.note;
  if (svgNodes.size === 0) document.body.classList.add("nograph");
  const graphPane = $("graph"), svg = graphPane.querySelector("svg");
  const natural = svg ? svg.getBoundingClientRect().width : 0;   // dot's own size, in px
  let zoom = 1;
  function setZoom(z) {
    if (!svg) return;
    zoom = Math.max(0.1, Math.min(4, z));
    svg.style.width = `${natural * zoom}px`;
    svg.style.height = "auto";
    $("zoom").textContent = `${Math.round(zoom * 100)} %`;
  }
  const fit = () => setZoom(Math.min(1, (graphPane.clientWidth - 20) / natural));
  const slider = $("slider");
  slider.max = String(steps - 1);

  const listing = $("listing");
  const items = entries.map((e, i) => {
    const li = el("li", "", e.line);
    li.addEventListener("click", () => go(stepOf(i)));
    listing.appendChild(li);
    return li;
  });

  // ---- numbers ------------------------------------------------------------------------
  function fmt(x) {
    if (typeof x === "string") return x;            // nan, inf
    if (Number.isInteger(x)) return String(x);
    return String(Number(x.toPrecision(4)));
  }

  function numbers(s, label, missing = "(no gradient reached it)") {
    const box = el("div", "numbers");
    if (label) box.appendChild(el("div", "label", label));
    if (!s) { box.appendChild(el("div", "none", missing)); return box; }
    box.appendChild(el("div", "shape", "(" + s.shape.join(", ") + (s.shape.length === 1 ? "," : "") + ") " + s.dtype));
    if (s.full !== undefined) {
      const table = el("table", "full");
      let rowsOf = s.full;
      if (!Array.isArray(rowsOf)) rowsOf = [[rowsOf]];
      else if (!Array.isArray(rowsOf[0])) rowsOf = [rowsOf];
      else rowsOf = rowsOf.map((r) => r.flat(Infinity));
      for (const r of rowsOf) {
        const tr = el("tr");
        for (const x of r) tr.appendChild(el("td", "", fmt(x)));
        table.appendChild(tr);
      }
      box.appendChild(table);
      return box;
    }
    const stats = s.min === undefined ? "no finite number" :
      `min ${fmt(s.min)}   max ${fmt(s.max)}   mean ${fmt(s.mean)}   ‖·‖ ${fmt(s.norm)}`;
    box.appendChild(el("div", "stats", stats + (s.nonfinite ? `   (${s.nonfinite} nan/inf)` : "")));
    if (s.heat) box.appendChild(heatmap(s.heat));
    if (s.hist) box.appendChild(histogram(s.hist));
    return box;
  }

  function heatmap(h) {
    const cell = Math.max(2, Math.min(8, Math.floor(300 / h.cols)));
    const c = el("canvas", "heat");
    c.width = h.cols * cell; c.height = h.rows * cell;
    c.title = `block means, ${h.rows}×${h.cols}; blue < 0 < red, full scale ±${fmt(h.scale)}`;
    const g = c.getContext("2d");
    h.cells.forEach((v, k) => {
      const a = Math.abs(v) / 99, w = Math.round(255 * (1 - a));
      g.fillStyle = v >= 0 ? `rgb(255,${w},${w})` : `rgb(${w},${w},255)`;
      g.fillRect((k % h.cols) * cell, Math.floor(k / h.cols) * cell, cell, cell);
    });
    return c;
  }

  function histogram(h) {
    const c = el("canvas", "hist");
    c.width = 288; c.height = 60;
    c.title = `histogram, ${h.counts.length} bins from ${fmt(h.lo)} to ${fmt(h.hi)}`;
    const g = c.getContext("2d"), top = Math.max(...h.counts) || 1, w = c.width / h.counts.length;
    g.fillStyle = "#5c7cfa";
    h.counts.forEach((k, i) => {
      const y = Math.round((k / top) * (c.height - 2));
      g.fillRect(i * w + 1, c.height - y, w - 2, y);
    });
    return c;
  }

  // ---- one step -------------------------------------------------------------------------
  let step = 0, timer = null;
  const forward = (s) => s < n;
  const entryAt = (s) => (forward(s) ? s : steps - 1 - s);
  const stepOf = (i) => (forward(step) ? i : steps - 1 - i);

  function setClass(name, cls) {
    const g = name && (svgNodes.get(name) || svgEdges.get(name));
    if (g) g.classList.add(cls);
  }

  function paintGraph(i, fwd) {
    for (const g of svgNodes.values()) g.classList.remove("current", "future", "swept");
    for (const g of svgEdges.values()) g.classList.remove("lit", "arriving", "future", "swept");
    entries.forEach((e, j) => {
      const state = j === i ? "current" : fwd ? (j > i ? "future" : "") : (j > i ? "swept" : "");
      if (state) {
        setClass(e.node, state); setClass(e.outNode, state);
        if (state !== "current") e.inEdges.forEach((name) => setClass(name, state));
      }
    });
    for (const [t, name] of gradTexts) {
      t.style.visibility = !fwd && gradFrom.has(name) && i <= gradFrom.get(name) ? "" : "hidden";
    }
    const e = entries[i];
    (fwd ? e.inEdges : e.sendEdges).forEach((name) => setClass(name, "lit"));
    if (!fwd) e.backEdges.forEach((name) => setClass(name, "arriving"));
    const g = svgNodes.get(e.node) || svgNodes.get(e.outNode);
    if (g) {                              // keep the current node in the graph's view
      const box = g.getBoundingClientRect(), pane = graphPane.getBoundingClientRect();
      if (box.left < pane.left || box.right > pane.right) graphPane.scrollLeft += box.left - pane.left - pane.width / 3;
      if (box.top < pane.top || box.bottom > pane.bottom) graphPane.scrollTop += box.top - pane.top - pane.height / 3;
    }
  }

  function forwardDetails(e, box) {
    const value = numbers(e.value, `value of ${e.name}`, "(the output was dropped: only the tape's line is left)");
    value.classList.add("value");
    box.appendChild(value);
  }

  function backwardDetails(e, i, box) {
    const arriving = `Δ = ∂L/∂${e.name}, the adjoint arriving at ${e.name}`;
    if (e.users.length >= 2) {
      const sum = el("div", "sum");
      sum.appendChild(el("div", "label", `${e.name} has ${e.users.length} users: its adjoint is the sum of what each sent back`));
      e.users.forEach((u, k) => {
        const part = numbers(u.share, `${k ? "+ " : ""}from ${u.name} = ${u.op}(…)`);
        if (!u.share) part.lastChild.textContent = "(the share is not kept: record with retain_graph=True to see it)";
        part.classList.add("share");
        sum.appendChild(part);
      });
      box.appendChild(sum);
    }
    let how = "";
    if (e.users.length === 1) how = ` (sent back by ${e.users[0].name} = ${e.users[0].op}(…))`;
    else if (e.users.length === 0 && e.adjoint) how = " (the seed: the sweep starts here with ∂L/∂L = 1)";
    const adjoint = numbers(e.adjoint, (e.users.length >= 2 ? "= " : "") + arriving + how);
    adjoint.classList.add("adjoint");
    box.appendChild(adjoint);
    const rules = el("div", "rules");
    rules.appendChild(el("div", "label", `the rule of ${e.op}, sending Δ on to its inputs:`));
    for (const r of e.rules) {
      const formula = r.formula || `d${r.input} = ${e.op}'s vjp applied to Δ`;
      if (r.needed === false) {
        rules.appendChild(el("div", "skip", `${r.input}: needs no gradient (not requires_grad)`));
        continue;
      }
      const part = numbers(r.share, formula);
      part.classList.add("rule");
      if (!r.share && e.adjoint) part.lastChild.textContent = "(not kept: record with retain_graph=True to see it)";
      if (!e.adjoint) part.lastChild.textContent = "(nothing to send)";
      rules.appendChild(part);
    }
    box.appendChild(rules);
  }

  function render() {
    const fwd = forward(step), i = entryAt(step), e = entries[i];
    $("phase").textContent = fwd
      ? `forward pass: entry ${i + 1} of ${n} is written`
      : `reverse sweep: entry ${i + 1} of ${n} is read (step ${step - n + 1} of ${n})`;
    $("phase").className = fwd ? "forward" : "backward";
    $("scope").textContent = e.scope.length ? e.scope.join(" › ") : "";
    $("line").textContent = e.line;
    const box = $("details");
    box.replaceChildren();
    if (fwd) forwardDetails(e, box); else backwardDetails(e, i, box);
    $("counter").textContent = `step ${step + 1} / ${steps}`;
    slider.value = String(step);
    items.forEach((li, j) => {
      li.className = j === i ? "current" : fwd && j > i ? "future" : !fwd && j > i ? "swept" : "";
    });
    const li = items[i];                  // scroll the list only, not the panel around it
    if (li.offsetTop < listing.scrollTop || li.offsetTop + li.offsetHeight > listing.scrollTop + listing.clientHeight) {
      listing.scrollTop = li.offsetTop - listing.clientHeight / 2;
    }
    if (svgNodes.size) paintGraph(i, fwd);
    document.body.dataset.step = String(step);
    document.body.dataset.entry = String(i);
    document.body.dataset.phase = fwd ? "forward" : "backward";
  }

  function go(s) {
    step = Math.max(0, Math.min(steps - 1, s));
    render();
  }

  function play() {
    if (timer) { clearInterval(timer); timer = null; $("play").textContent = "▶ play"; return; }
    if (step === steps - 1) go(0);
    $("play").textContent = "❚❚ pause";
    timer = setInterval(() => { if (step >= steps - 1) play(); else go(step + 1); }, 800);
  }

  $("first").addEventListener("click", () => go(0));
  $("back").addEventListener("click", () => go(step - 1));
  $("forward").addEventListener("click", () => go(step + 1));
  $("last").addEventListener("click", () => go(steps - 1));
  $("play").addEventListener("click", play);
  $("smaller").addEventListener("click", () => setZoom(zoom / 1.25));
  $("larger").addEventListener("click", () => setZoom(zoom * 1.25));
  $("fit").addEventListener("click", fit);
  slider.addEventListener("input", () => go(Number(slider.value)));
  document.addEventListener("keydown", (ev) => {
    const keys = { ArrowRight: 1, ArrowLeft: -1 };
    if (ev.key in keys) go(step + keys[ev.key]);
    else if (ev.key === "Home") go(0);
    else if (ev.key === "End") go(steps - 1);
    else if (ev.key === " ") play();
    else return;
    ev.preventDefault();
  });
  for (const [name, g] of svgNodes) {
    if (!entryOfNode.has(name)) continue;
    g.classList.add("clickable");
    g.addEventListener("click", () => go(stepOf(entryOfNode.get(name))));
  }

  if (svg) { if (natural > graphPane.clientWidth * 1.6) setZoom(1); else fit(); }
  render();
  document.body.dataset.ready = "1";
  window.sweepReadyAt = performance.now();
})();
