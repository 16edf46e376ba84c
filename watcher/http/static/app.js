// watcher's page: polls the REST API (the session cookie authenticates it) and redraws in
// place, no reload. Values are set with textContent only: nothing the store holds is HTML.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const FAST = 2000, SLOW = 6000;
let selected = new URLSearchParams(location.hash.slice(1)).get("wf");
let lastSlow = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? "-"));
  }
  return node;
}

async function api(path, options) {
  const response = await fetch(path, {credentials: "same-origin", ...options});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error ? body.error.message : response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function when(iso) {
  return iso ? iso.replace("T", " ").slice(0, 19) : "-";
}

function fill(table, rows, cells, empty) {
  const tbody = document.querySelector(`#${table} tbody`);
  tbody.replaceChildren(...rows.map(cells));
  if (empty) document.getElementById(empty).hidden = rows.length > 0;
}

function drawWorkflows(rows) {
  fill("workflows", rows, (wf) => {
    const tr = el("tr", {"data-workflow": wf.id},
      el("td", {}, el("code", {}, wf.id)), el("td", {}, wf.name),
      el("td", {class: "step"}, wf.step), el("td", {class: "age"}, wf.age),
      el("td", {class: "wide"}, wf.last_event));
    if (wf.id === selected) tr.classList.add("selected");
    tr.addEventListener("click", () => select(wf.id));
    return tr;
  }, "workflows-empty");
}

function drawDetail(wf) {
  const section = document.getElementById("detail");
  section.hidden = false;
  section.dataset.workflow = wf.id;
  document.getElementById("detail-title").textContent = `${wf.id} (${wf.name})`;
  const step = document.getElementById("detail-step");
  step.textContent = wf.step;
  step.dataset.status = wf.step;
  document.getElementById("steps").replaceChildren(...wf.steps.map((s) => {
    const ids = s.jobs ? s.jobs.join(", ") : (s.task || "");
    const classes = ["step", s.after.length ? "after" : "", s.on_failure ? "on-failure" : ""];
    return el("li", {class: classes.join(" ").trim(), "data-step": s.name,
                     "data-status": s.status,
                     title: s.after.length ? `after ${s.after.join(", ")}` : ""},
      el("span", {class: "name"}, s.name), el("span", {class: "status"}, s.status),
      el("span", {class: "ids"}, ids ? ` ${ids}` : ""),
      el("span", {class: "ids"}, s.after.length > 1 ? ` after ${s.after.join(", ")}` : ""));
  }));
  document.getElementById("log").replaceChildren(...wf.log.map((line) =>
    el("li", {}, el("span", {class: "at"}, when(line.at)),
       el("span", {class: "stepname"}, line.step), el("span", {class: "text"}, line.text))));
  const cancel = document.getElementById("cancel");
  cancel.disabled = wf.ended;
  // Every workflow is a graph of steps now (the three-step shape too): a failed one is retried.
  document.getElementById("retry").hidden = wf.step !== "failed";
}

function drawRules(rules) {
  fill("rules", rules, (rule) => rule.valid
    ? el("tr", {"data-rule": rule.name}, el("td", {}, rule.name), el("td", {}, rule.state),
         el("td", {}, String(rule.fire_count ?? "-")),
         el("td", {class: "wide"}, when(rule.last_fired_at)))
    : el("tr", {}, el("td", {}, rule.file), el("td", {class: "no"}, "invalid file"),
         el("td", {}, "-"), el("td", {class: "wide"}, rule.errors[0].message)));
}

function drawSources(data) {
  fill("sources", data.sources, (s) => el("tr", {"data-source": s.source},
    el("td", {}, s.source), el("td", {class: s.healthy ? "yes" : "no"}, s.healthy ? "yes" : "no"),
    el("td", {class: "wide"}, String(s.failures)), el("td", {}, s.last_error || "")));
}

function drawDead(rows) {
  fill("dead", rows, (d) => el("tr", {}, el("td", {}, d.rule), el("td", {}, d.action),
    el("td", {class: "wide"}, d.subject), el("td", {}, d.last_error)), "dead-empty");
}

async function refresh() {
  const status = document.getElementById("updated");
  try {
    drawWorkflows(await api("/api/v1/workflows?limit=50"));
    if (selected) drawDetail(await api(`/api/v1/workflows/${encodeURIComponent(selected)}`));
    if (Date.now() - lastSlow > SLOW) {
      lastSlow = Date.now();
      const [rules, sources, dead] = await Promise.all([
        api("/api/v1/rules"), api("/api/v1/sources"), api("/api/v1/dead-actions")]);
      drawRules(rules); drawSources(sources); drawDead(dead);
    }
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.textContent = error.status === 401 ? "logged out: open the link watcher printed"
      : `cannot reach watcher: ${error.message}`;
  }
}

function select(id) {
  selected = id;
  history.replaceState(null, "", `#wf=${encodeURIComponent(id)}`);
  document.getElementById("action-result").textContent = "";
  resetCancel();
  refresh();
}

function resetCancel() {
  const cancel = document.getElementById("cancel");
  cancel.classList.remove("confirm");
  cancel.textContent = "Cancel workflow";
}

// Two presses, not a dialog: a stray tap on a phone cancels nothing.
document.getElementById("cancel").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  if (!button.classList.contains("confirm")) {
    button.classList.add("confirm");
    button.textContent = "Press again to cancel";
    setTimeout(resetCancel, 5000);
    return;
  }
  resetCancel();
  button.disabled = true;
  const result = document.getElementById("action-result");
  try {
    const answer = await api(`/api/v1/workflows/${encodeURIComponent(selected)}/cancel`, {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": CSRF},
      body: JSON.stringify({reason: "cancelled from the web page"})});
    result.textContent = answer.done.join("; ");
  } catch (error) {
    result.textContent = error.message;
  }
  refresh();
});

document.getElementById("retry").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  const result = document.getElementById("action-result");
  try {
    const answer = await api(`/api/v1/workflows/${encodeURIComponent(selected)}/retry`, {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": CSRF},
      body: "{}"});
    result.textContent = `running again: ${answer.steps.join(", ")}`;
  } catch (error) {
    result.textContent = error.message;
  }
  button.disabled = false;
  refresh();
});

refresh();
setInterval(refresh, FAST);
