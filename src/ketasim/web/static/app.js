// ketasim's page: build a regimen and watch the cascade, run a trial, run the experiments,
// and see the evidence against ketasim's predictions. Everything goes through the service's
// API (docs/web.md); plots are Plotly.js, served by the service from the plotly package.
"use strict";

// Okabe-Ito: distinguishable with the common colour-vision deficiencies
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
const IV_ROUTES = new Set(["iv-infusion", "iv-bolus"]);

const $ = (selector) => document.querySelector(selector);

// --- talking to the service ----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const detail = body && body.detail;
    let items = [];
    let message = `the service answered HTTP ${status}`;
    if (Array.isArray(detail)) {
      items = detail;
      message = detail
        .map((d) => (d.field ? d.msg : `${(d.loc || []).slice(1).join(".")}: ${d.msg}`))
        .join(" ");
    } else if (typeof detail === "string") {
      message = detail;
    }
    super(message);
    this.status = status;
    this.fields = items.map((d) => d.field || (d.loc || []).slice(1).join("."));
  }
}

async function api(path, options = {}) {
  const init = { ...options };
  if (init.body !== undefined && typeof init.body !== "string") {
    init.body = JSON.stringify(init.body);
    init.headers = { "Content-Type": "application/json", ...(init.headers || {}) };
  }
  const response = await fetch(path, init);
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function showError(box, form, error) {
  if (form) form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.hidden = false;
  box.textContent = error.message || String(error);
  if (form && error.fields) {
    for (const field of error.fields) {
      const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", box.id);
      }
    }
  }
}

// --- formatting ----------------------------------------------------------------------------

function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const v = Number(x);
  if (v === 0) return "0";
  const size = Math.abs(v);
  if (size >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits)).toString();
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(table, rows, build) {
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const item of rows) {
    const tr = document.createElement("tr");
    build(tr, item);
    body.appendChild(tr);
  }
  table.hidden = rows.length === 0;
}

function label(column) {
  const names = {
    block_interneuron_fraction: "interneurons",
    block_pyramidal_fraction: "pyramidal neurons",
    glutamate_rel: "glutamate",
    glutamate_surge_rel: "glutamate surge",
    pyramidal_rate_rel: "pyramidal firing",
    ampa_drive_rel: "AMPA drive",
    bdnf_release_rel: "BDNF release",
    mtor_active_rel: "active mTOR",
    synaptic_proteins_rel: "synaptic proteins",
    eef2k_activity_rel: "eEF2K activity",
    spines_mushroom_density: "mature (mushroom) spines",
    spines_new_density: "new spines",
    madrs_points: "MADRS",
    hdrs_17_points: "HDRS-17",
    cadss_points: "CADSS",
    sbp_mmhg: "systolic BP",
    heart_rate_bpm: "heart rate",
  };
  if (names[column]) return names[column];
  const m = column.match(/^(.*)_(plasma|brain|arterial)_(ng_per_ml|um)$/);
  if (m) return `${m[1]}, ${m[2]}`;
  return column.replace(/_(ng_per_ml|um|fraction|rel|points|mmhg|bpm|density|s)$/, "").replace(/_/g, " ");
}

function baseLayout(title, yTitle, xTitle) {
  return {
    title: { text: title, font: { size: 14 }, xref: "paper", x: 0, xanchor: "left" },
    margin: { l: 64, r: 14, t: 40, b: 46 },
    height: 260,
    font: { family: "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", size: 12 },
    xaxis: { title: { text: xTitle }, zeroline: false, showline: true, linecolor: "#8a93a6" },
    yaxis: { title: { text: yTitle }, zeroline: false, showline: true, linecolor: "#8a93a6" },
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.85)", font: { size: 11 } },
    hovermode: "x unified",
  };
}

// --- tabs (WAI-ARIA tabs pattern: arrow keys move between tabs) ------------------------------

const loaded = new Set();

function selectTab(tab, focus = true) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  const name = tab.id.replace("tab-", "");
  if (history.replaceState) history.replaceState(null, "", `#${name}`);
  onShow(name);
}

function onShow(name) {
  // Plotly sizes a plot drawn in a hidden panel wrongly: resize when the panel shows
  document.querySelectorAll(`#panel-${name} .js-plotly-plot`).forEach((el) => Plotly.Plots.resize(el));
  if (loaded.has(name)) return;
  loaded.add(name);
  if (name === "trial") loadTrialSpecs().then(refreshJobs);
  if (name === "experiments") loadExperiments();
  if (name === "evidence") {
    loadEvidence();
    drawForest();
  }
}

function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(i + 1) % tabs.length];
      if (event.key === "ArrowLeft") next = tabs[(i - 1 + tabs.length) % tabs.length];
      if (event.key === "Home") next = tabs[0];
      if (event.key === "End") next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        selectTab(next);
      }
    });
  });
  const wanted = document.getElementById(`tab-${location.hash.slice(1)}`);
  selectTab(wanted || tabs[0], false);
}

// --- cascade ---------------------------------------------------------------------------------

let drugs = [];

async function loadDrugs() {
  drugs = await api("/api/drugs");
  const select = $("#sim-drug");
  select.replaceChildren();
  for (const d of drugs) {
    const option = new Option(`${d.display_name} (${d.name})`, d.name);
    option.title = d.description;
    select.appendChild(option);
  }
  select.value = "ketamine-racemic";
  updateRoutes();
}

function updateRoutes() {
  const drug = drugs.find((d) => d.name === $("#sim-drug").value);
  const species = $("#sim-species").value;
  const route = $("#sim-route");
  const previous = route.value || "iv-infusion";
  route.replaceChildren();
  const routes = drug && drug.species[species] ? drug.species[species].routes : [];
  for (const r of routes) route.appendChild(new Option(r, r));
  route.value = routes.includes(previous) ? previous : routes[0] || "";
  $("#sim-dose").disabled = Boolean(drug && drug.placebo);
  $("#covariates").hidden = species !== "human";
  updateRouteFields();
}

function updateRouteFields() {
  $("#sim-over").disabled = !IV_ROUTES.has($("#sim-route").value);
  $("#sim-every").disabled = Number($("#sim-count").value || 1) <= 1;
}

function onSpeciesChange() {
  const weights = { human: "70 kg", rat: "250 g", mouse: "25 g" };
  $("#sim-weight").value = weights[$("#sim-species").value] || "";
  updateRoutes();
}

function simulateRequest() {
  const drug = drugs.find((d) => d.name === $("#sim-drug").value);
  const route = $("#sim-route").value;
  const count = Number($("#sim-count").value || 1);
  const species = $("#sim-species").value;
  const body = {
    drug: $("#sim-drug").value,
    route,
    species,
    until: $("#sim-until").value.trim(),
    n_patients: Number($("#sim-patients").value || 1),
    seed: Number($("#sim-seed").value || 0),
    variability: $("#sim-variability").checked,
  };
  if (!(drug && drug.placebo)) body.dose = $("#sim-dose").value.trim();
  const over = $("#sim-over").value.trim();
  if (IV_ROUTES.has(route) && over) body.over = over;
  const weight = $("#sim-weight").value.trim();
  if (weight) body.weight = weight;
  if (count > 1) {
    body.count = count;
    body.every = $("#sim-every").value.trim();
  }
  if (species === "human") {
    body.covariates = {
      bmi_kg_m2: Number($("#sim-bmi").value),
      severity: Number($("#sim-severity").value),
      comedication: $("#sim-comedication").value,
      met_alleles: Number($("#sim-met").value),
      bipolar: $("#sim-bipolar").checked,
      fh_aud: $("#sim-fh").checked,
      suicide_attempt: $("#sim-attempt").checked,
    };
  }
  return body;
}

// What each plot of the cascade shows: columns (present ones are drawn), y-axis title.
const CASCADE = [
  { id: "plot-pk", title: "Concentration", y: "concentration (ng/mL)", pick: (cols) => cols.filter((c) => /_(plasma|brain)_ng_per_ml$/.test(c)) },
  { id: "plot-block", title: "NMDA receptor block", y: "receptors blocked (fraction)", pick: () => ["block_interneuron_fraction", "block_pyramidal_fraction"] },
  { id: "plot-glutamate", title: "Disinhibition and glutamate", y: "relative to baseline", pick: () => ["glutamate_rel", "pyramidal_rate_rel", "ampa_drive_rel"] },
  { id: "plot-signalling", title: "BDNF / mTOR signalling", y: "relative to baseline", pick: () => ["bdnf_release_rel", "mtor_active_rel", "synaptic_proteins_rel"] },
  { id: "plot-spines", title: "Spines", y: "density (healthy = 1)", pick: () => ["spines_mushroom_density", "spines_new_density"] },
  { id: "plot-scales", title: "Depression ratings", y: "score (points)", pick: () => ["madrs_points", "hdrs_17_points"] },
  { id: "plot-cadss", title: "Dissociation (CADSS)", y: "CADSS (points)", pick: () => ["cadss_points"] },
  { id: "plot-bp", title: "Blood pressure", y: "systolic BP (mmHg)", pick: () => ["sbp_mmhg"] },
];

function drawCascade(result) {
  const days = result.t_h[result.t_h.length - 1] > 48;
  const x = result.t_h.map((t) => (days ? t / 24 : t));
  const xTitle = days ? "time after the first dose (days)" : "time after the first dose (h)";
  const columns = Object.keys(result.timecourse);
  for (const plot of CASCADE) {
    const wanted = plot.pick(columns).filter((c) => columns.includes(c));
    const traces = [];
    wanted.forEach((column, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const band = result.band && result.band[column];
      if (band) {
        traces.push({ x, y: band.hi, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false });
        traces.push({
          x, y: band.lo, mode: "lines", line: { width: 0 }, fill: "tonexty",
          fillcolor: `${colour}33`, hoverinfo: "skip", name: `${label(column)}: 5–95 %`, showlegend: false,
        });
      }
      traces.push({
        x, y: band ? band.median : result.timecourse[column], mode: "lines",
        name: label(column), line: { color: colour, width: 2 },
        hovertemplate: `%{y:.3~g} ${result.units[column] || ""}<extra>${label(column)}</extra>`,
      });
    });
    const layout = baseLayout(plot.title, plot.y, xTitle);
    if (!wanted.length) {
      layout.annotations = [{ text: `${result.drug} has no such output`, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }];
    }
    Plotly.react(plot.id, traces, layout, PLOT_CONFIG);
  }
}

function showSummary(result) {
  const rows = result.summary.filter((r) => r.patient === 0);
  fillTable($("#sim-summary"), rows, (tr, r) => {
    cell(tr, `${r.analyte} (${result.plasma_site})`);
    cell(tr, fmt(r.cmax_ng_per_ml), "num");
    cell(tr, fmt(r.cmax_um), "num");
    cell(tr, fmt(r.tmax_h), "num");
    cell(tr, fmt(r.auc_ng_h_per_ml), "num");
    cell(tr, fmt(r.brain_cmax_ng_per_ml), "num");
  });
  const who = result.n_patients > 1 ? `${result.n_patients} patients: median and 5–95 % band` : "one patient";
  $("#sim-regimen").textContent = `${result.drug} (${result.species}): ${result.regimen}; ${who}.`;
}

async function runSimulation(event) {
  event.preventDefault();
  const form = $("#sim-form");
  const button = $("#sim-run");
  button.disabled = true;
  $("#sim-status").textContent = "Simulating…";
  showError($("#sim-error"), form, null);
  const started = performance.now();
  try {
    const result = await api("/api/simulate", { method: "POST", body: simulateRequest() });
    showSummary(result);
    drawCascade(result);
    $("#sim-status").textContent = `Simulated in ${((performance.now() - started) / 1000).toFixed(1)} s.`;
  } catch (error) {
    $("#sim-status").textContent = "";
    showError($("#sim-error"), form, error);
  } finally {
    button.disabled = false;
  }
}

// --- trials ----------------------------------------------------------------------------------

let specs = [];
let polling = null;

async function loadTrialSpecs() {
  specs = await api("/api/trial-specs");
  const select = $("#trial-spec");
  select.replaceChildren();
  const groups = { study: "Published studies (with observed outcomes)", example: "Examples" };
  for (const [origin, title] of Object.entries(groups)) {
    const group = document.createElement("optgroup");
    group.label = title;
    for (const s of specs.filter((x) => x.origin === origin)) {
      const option = new Option(s.name, s.name);
      option.title = s.description;
      group.appendChild(option);
    }
    if (group.children.length) select.appendChild(group);
  }
  select.value = specs.some((s) => s.name === "berman-2000") ? "berman-2000" : specs[0].name;
  showSpecText();
}

function showSpecText() {
  const spec = specs.find((s) => s.name === $("#trial-spec").value);
  if (spec) $("#trial-yaml").value = spec.text;
}

function readUpload() {
  const file = $("#trial-file").files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    $("#trial-yaml").value = String(reader.result);
    $("#trial-status").textContent = `Loaded ${file.name}; press Run trial.`;
  };
  reader.readAsText(file);
}

async function runTrial(event) {
  event.preventDefault();
  const form = $("#trial-form");
  showError($("#trial-error"), form, null);
  const body = {
    spec_yaml: $("#trial-yaml").value,
    replicates: Number($("#trial-replicates").value || 1),
    seed: Number($("#trial-seed").value || 0),
  };
  $("#trial-run").disabled = true;
  try {
    const job = await api("/api/trials", { method: "POST", body });
    $("#trial-progress").value = 0;
    $("#trial-status").textContent = "Queued…";
    await refreshJobs();
    pollJob(job.id);
  } catch (error) {
    $("#trial-run").disabled = false;
    showError($("#trial-error"), form, error);
  }
}

function pollJob(id) {
  if (polling) clearTimeout(polling);
  const tick = async () => {
    let job;
    try {
      job = await api(`/api/trials/${encodeURIComponent(id)}`);
    } catch (error) {
      showError($("#trial-error"), null, error);
      $("#trial-run").disabled = false;
      return;
    }
    $("#trial-progress").value = job.progress;
    $("#trial-status").textContent = `${job.trial}: ${job.status}${job.note && job.note !== job.status ? ` (${job.note})` : ""}`;
    if (job.status === "queued" || job.status === "running") {
      polling = setTimeout(tick, 700);
      return;
    }
    $("#trial-run").disabled = false;
    if (job.status === "done") showTrial(job);
    else showError($("#trial-error"), null, new Error(`${job.trial}: ${job.status}. ${job.error || ""}`));
    refreshJobs();
  };
  tick();
}

function range(v) {
  return v ? `${fmt(v.lo)} to ${fmt(v.hi)}` : "–";
}

function showTrial(job) {
  const r = job.result;
  $("#trial-heading").textContent = `${r.trial}: predicted and observed`;
  $("#trial-summary").textContent = `${r.replicates} replicate trials (seed ${r.seed}), scale ${r.scale || "–"}. ${r.description || ""}`;
  fillTable($("#trial-observed"), r.observed || [], (tr, o) => {
    cell(tr, o.endpoint);
    cell(tr, o.vs ? `${o.arm} − ${o.vs}` : o.arm);
    cell(tr, o.k !== null && o.k !== undefined ? `${o.k}/${o.n} = ${fmt(o.observed)}` : fmt(o.observed), "num");
    cell(tr, o.predicted ? fmt(o.predicted.median) : "–", "num");
    cell(tr, range(o.predicted), "num");
    const inside = o.inside === null || o.inside === undefined ? "–" : o.inside ? "yes" : "no";
    cell(tr, inside, o.inside === null || o.inside === undefined ? "" : o.inside ? "yes" : "no");
    cell(tr, o.note || "");
  });
  const armRows = r.arms.flatMap((a) => Object.entries(a.endpoints).map(([name, v]) => ({ arm: a.name, n: a.n, name, v })));
  fillTable($("#trial-arms"), armRows, (tr, x) => {
    cell(tr, x.arm);
    cell(tr, String(x.n), "num");
    cell(tr, x.name);
    cell(tr, fmt(x.v.median), "num");
    cell(tr, range(x.v), "num");
  });
  fillTable($("#trial-comparisons"), r.comparisons, (tr, c) => {
    cell(tr, c.endpoint);
    cell(tr, `${c.arm} − ${c.vs}`);
    cell(tr, fmt(c.median), "num");
    cell(tr, range(c), "num");
    cell(tr, fmt(c.power), "num");
  });
}

async function refreshJobs() {
  const jobs = await api("/api/trials?limit=15");
  fillTable($("#trial-jobs"), jobs, (tr, j) => {
    cell(tr, j.trial);
    cell(tr, String(j.replicates), "num");
    cell(tr, j.status === "running" ? `running ${Math.round(100 * j.progress)} %` : j.status);
    cell(tr, (j.created || "").replace("T", " ").replace("+00:00", ""));
    const td = cell(tr, "");
    if (j.status === "done") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.textContent = "Show";
      button.setAttribute("aria-label", `Show the result of ${j.trial} (${j.created})`);
      button.addEventListener("click", async () => showTrial(await api(`/api/trials/${j.id}`)));
      td.appendChild(button);
    }
  });
  $("#trial-jobs").hidden = false;
}

// --- experiments -----------------------------------------------------------------------------

async function loadExperiments() {
  const experiments = await api("/api/experiments");
  fillTable($("#exp-list"), experiments, (tr, e) => {
    tr.dataset.name = e.name;
    const name = cell(tr, e.name);
    name.title = `source: ${e.source}`;
    cell(tr, e.species);
    cell(tr, e.claim);
    const td = cell(tr, "");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.textContent = "Run";
    button.setAttribute("aria-label", `Run ${e.name}`);
    button.addEventListener("click", () => runExperimentNamed(e.name, button));
    td.appendChild(button);
  });
}

async function runExperimentNamed(name, button) {
  document.querySelectorAll("#exp-list tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.name === name));
  button.disabled = true;
  showError($("#exp-error"), null, null);
  $("#exp-status").textContent = `Running ${name}…`;
  try {
    const r = await api(`/api/experiments/${encodeURIComponent(name)}/run`, { method: "POST" });
    $("#exp-heading").textContent = `${r.name}: ${r.passed ? "every expectation holds" : "an expectation fails"}`;
    $("#exp-status").textContent = `${r.claim} (${r.species}; ${r.elapsed_s.toFixed(1)} s)`;
    fillTable($("#exp-checks"), r.observed.checks, (tr, c) => {
      cell(tr, c.expectation);
      cell(tr, c.readout);
      cell(tr, fmt(c.observed), "num");
      cell(tr, c.passed ? "yes" : "no", c.passed ? "yes" : "no");
    });
    drawExperiment(r);
  } catch (error) {
    $("#exp-status").textContent = "";
    showError($("#exp-error"), null, error);
  } finally {
    button.disabled = false;
  }
}

function outputLabel(output) {
  return output.replace(/_(ng_per_ml|um|fraction|rel|points|mmhg|bpm|density|s)$/, "").replace(/_/g, " ");
}

function drawExperiment(r) {
  const box = $("#exp-plots");
  box.replaceChildren();
  // lay every figure out first: a plot sizes itself to its box when drawn
  const divs = r.traces.map((trace, k) => {
    const figure = document.createElement("figure");
    const div = document.createElement("div");
    div.id = `exp-plot-${k}`;
    div.className = "plot";
    div.setAttribute("role", "img");
    div.setAttribute("aria-label", `${trace.name}: ${trace.output} over time per condition`);
    figure.appendChild(div);
    box.appendChild(figure);
    return div;
  });
  r.traces.forEach((trace, k) => {
    const div = divs[k];
    const longest = Math.max(...Object.values(trace.conditions).map((s) => s.t_h[s.t_h.length - 1]));
    const days = longest > 72;
    const data = Object.entries(trace.conditions).map(([name, s], i) => ({
      x: s.t_h.map((t) => (days ? t / 24 : t)), y: s.values, mode: "lines", name,
      line: { color: COLOURS[i % COLOURS.length], width: 2 },
    }));
    const [lo, hi] = trace.window_h.map((t) => (days ? t / 24 : t));
    const yTitle = `${outputLabel(trace.output)}${trace.unit ? ` (${trace.unit})` : ""}`;
    const layout = baseLayout(trace.name, yTitle, days ? "time after the dose (days)" : "time after the dose (h)");
    layout.shapes = [{
      type: lo === hi ? "line" : "rect", xref: "x", yref: "paper", x0: lo, x1: hi, y0: 0, y1: 1,
      line: { color: "#8a93a6", dash: "dot", width: 1 }, fillcolor: "rgba(138,147,166,0.08)",
    }];
    Plotly.newPlot(div, data, layout, PLOT_CONFIG);
  });
}

// --- evidence --------------------------------------------------------------------------------

async function loadEvidence() {
  const studies = await api("/api/evidence");
  fillTable($("#evidence-list"), studies, (tr, s) => {
    cell(tr, s.id);
    cell(tr, s.design);
    cell(tr, s.diagnosis);
    cell(tr, s.arms.join(", "));
    cell(tr, String(s.outcomes), "num");
    cell(tr, s.origin);
  });
}

function metaQuery() {
  const params = new URLSearchParams();
  for (const name of ["endpoint", "time", "after", "measure", "method", "by", "course", "patients", "seed"]) {
    const value = $(`#meta-form [name="${name}"]`).value.trim();
    if (value) params.set(name, value);
  }
  params.set("predict", $("#meta-predict").checked ? "true" : "false");
  return params;
}

const MEASURES = { rate: "rate", or: "odds ratio, treatment vs control", rd: "risk difference, treatment − control" };

async function drawForest(event) {
  if (event) event.preventDefault();
  const form = $("#meta-form");
  showError($("#meta-error"), form, null);
  const predict = $("#meta-predict").checked;
  $("#meta-run").disabled = true;
  $("#meta-status").textContent = predict ? "Pooling, and simulating virtual trials of each study (minutes the first time)…" : "Pooling…";
  try {
    const r = await api(`/api/evidence/meta?${metaQuery()}`);
    forest(r);
    $("#meta-status").textContent = "";
    const pct = r.i2 === null ? "–" : `${Math.round(100 * r.i2)} %`;
    const excluded = r.excluded.map((e) => `${e.study} (${e.reason})`).join("; ");
    $("#meta-stats").textContent = `k = ${r.k_studies}; pooled ${fmt(r.pooled.estimate)} (95 % CI ${range(r.pooled)}); I² = ${pct}; τ² = ${fmt(r.tau2)}; Q = ${fmt(r.q)} (p = ${fmt(r.q_p)})` +
      (r.predicted ? `; ketasim ${fmt(r.predicted.estimate)} (95 % PI ${range(r.predicted)})` : "") +
      (excluded ? `. Not pooled: ${excluded}.` : ".");
  } catch (error) {
    $("#meta-status").textContent = "";
    showError($("#meta-error"), form, error);
  } finally {
    $("#meta-run").disabled = false;
  }
}

function forest(r) {
  const n = r.studies.length;
  const ys = r.studies.map((_, i) => n - i + 1);
  const weights = r.studies.map((s) => s.weight_re || 0);
  const wmax = Math.max(...weights, 1e-9);
  const labels = r.studies.map((s) => `${s.study}${s.arm === "ketamine" ? "" : ` (${s.arm})`}  ${s.k}/${s.n}`);
  const err = (items, key) => ({
    type: "data", symmetric: false, thickness: 1.6, width: 0,
    array: items.map((e) => (e && e.hi !== null ? e.hi - e.estimate : null)),
    arrayminus: items.map((e) => (e && e.lo !== null ? e.estimate - e.lo : null)),
    color: key,
  });
  const observed = {
    type: "scatter", mode: "markers", name: "observed (95 % CI)", x: r.studies.map((s) => s.estimate), y: ys.map((y) => y + 0.12),
    marker: { symbol: "square", color: "#1f4e79", size: weights.map((w) => 7 + 11 * Math.sqrt(w / wmax)) },
    error_x: err(r.studies, "#1f4e79"), hovertemplate: "%{text}<br>observed %{x:.2f}<extra></extra>", text: labels,
  };
  const traces = [observed];
  const predicted = r.studies.map((s) => s.predicted);
  if (predicted.some((p) => p)) {
    traces.push({
      type: "scatter", mode: "markers", name: "ketasim (95 % PI)", x: predicted.map((p) => (p ? p.estimate : null)),
      y: ys.map((y) => y - 0.22), marker: { symbol: "circle", color: "#c55a11", size: 7 },
      error_x: err(predicted.map((p) => p || { estimate: null, lo: null, hi: null }), "#c55a11"),
      hovertemplate: "%{text}<br>ketasim %{x:.2f}<extra></extra>", text: labels,
    });
  }
  const diamond = (e, y, colour, name) => ({
    type: "scatter", mode: "lines", fill: "toself", name, x: [e.lo, e.estimate, e.hi, e.estimate, e.lo],
    y: [y, y + 0.3, y, y - 0.3, y], line: { color: colour }, fillcolor: colour,
    hovertemplate: `${name}: ${fmt(e.estimate)} (${range(e)})<extra></extra>`,
  });
  traces.push(diamond(r.pooled, 1, "#1f4e79", `pooled (${r.method.toUpperCase()})`));
  if (r.predicted) traces.push(diamond(r.predicted, 0.2, "#c55a11", "ketasim pooled"));
  const after = r.after === "first" ? "" : " after the final dose";
  const layout = baseLayout(
    `${r.endpoint} at ${r.time}${after}: evidence and ketasim`,
    "",
    `${r.endpoint} ${MEASURES[r.measure] || r.measure} (95 % CI; ketasim: 95 % PI)`,
  );
  layout.height = Math.max(320, 46 * (n + 2) + 90);
  layout.margin.l = 230;
  layout.hovermode = "closest";
  layout.yaxis = {
    tickvals: [...ys, 1, ...(r.predicted ? [0.2] : [])],
    ticktext: [...labels, "pooled", ...(r.predicted ? ["ketasim pooled"] : [])],
    range: [-0.5, n + 2.7], zeroline: false, showgrid: false,
  };
  if (r.measure === "or") layout.xaxis.type = "log";
  layout.shapes = [{
    type: "line", xref: "x", yref: "paper", y0: 0, y1: 1, x0: r.pooled.estimate, x1: r.pooled.estimate,
    line: { color: "#1f4e79", dash: "dot", width: 1 },
  }];
  Plotly.react("plot-forest", traces, layout, PLOT_CONFIG);
}

// --- start -----------------------------------------------------------------------------------

async function start() {
  $("#sim-form").addEventListener("submit", runSimulation);
  $("#sim-drug").addEventListener("change", updateRoutes);
  $("#sim-species").addEventListener("change", onSpeciesChange);
  $("#sim-route").addEventListener("change", updateRouteFields);
  $("#sim-count").addEventListener("input", updateRouteFields);
  $("#trial-form").addEventListener("submit", runTrial);
  $("#trial-spec").addEventListener("change", showSpecText);
  $("#trial-file").addEventListener("change", readUpload);
  $("#meta-form").addEventListener("submit", drawForest);
  try {
    const limits = await api("/api/limits");
    $("#sim-patients").max = limits.max_patients;
    $("#trial-replicates").max = limits.max_replicates;
    await loadDrugs();
  } catch (error) {
    showError($("#sim-error"), null, error);
  }
  setUpTabs();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
