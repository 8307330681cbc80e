// The live view of smtprun serve. Every text shown comes from the server
// as data and is put in the page with textContent (el below), never parsed
// as HTML: client addresses, lines, subjects are the SMTP client's.
"use strict";

let token = "";
let openSession = null, openMessage = null;
const sessions = new Map();

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

// cell is a table cell that may be cut short, with all of it as its title.
const cell = text => el("td", { title: text }, text);

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (method !== "GET") init.headers["X-Smtprun-Token"] = token;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 204) return null;
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

function debounce(f, ms) {
  let t = null;
  return () => { clearTimeout(t); t = setTimeout(f, ms); };
}

// Sessions

function renderSessions() {
  const tb = document.querySelector("#sessions tbody");
  const rows = [...sessions.values()].sort((a, b) => b.id - a.id).map(s =>
    el("tr", { dataset: { id: s.id }, class: openSession === s.id ? "selected" : "" },
      el("td", {}, s.id), cell(s.client), el("td", {}, s.profile),
      el("td", { title: s.tls || "" }, s.tls ? "yes" : "no"), cell(s.auth_user || ""),
      el("td", { class: "outcome-" + s.outcome, title: s.last_error || "" }, s.outcome),
      el("td", {}, s.diagnoses || "")));
  tb.replaceChildren(...rows);
}

async function loadSessions() {
  const j = await api("GET", "/api/v1/sessions?limit=200");
  sessions.clear();
  for (const s of j.items) sessions.set(s.id, s);
  renderSessions();
}

const reloadSession = debounce(() => { if (openSession !== null) showSession(openSession); }, 150);

async function showSession(id) {
  let s;
  try { s = await api("GET", "/api/v1/sessions/" + encodeURIComponent(id)); } catch (e) { return; }
  openSession = id; openMessage = null;
  renderSessions();
  const head = el("div", {},
    el("h2", {}, "Session " + s.id + " from " + s.client),
    el("dl", { class: "env" },
      el("dt", {}, "profile"), el("dd", {}, s.profile + " (" + s.host + ")"),
      el("dt", {}, "TLS"), el("dd", {}, s.tls || "none"),
      el("dt", {}, "AUTH user"), el("dd", {}, s.auth_user || "none"),
      el("dt", {}, "outcome"), el("dd", { class: "outcome-" + s.outcome }, s.outcome + (s.last_error ? ": " + s.last_error : ""))));
  const links = el("p", {});
  if (s.recording) links.append(el("a", { href: "/api/v1/sessions/" + s.id + "/recording", download: s.recording }, "recorded script (.smtp)"), " ");
  for (const m of s.messages) links.append(el("a", { href: "/api/v1/messages/" + encodeURIComponent(m) + "/raw?download=1" }, "message " + m + " (.eml)"), " ");
  head.append(links);
  if (s.report_card) {
    const rc = s.report_card;
    const counted = m => Object.entries(m || {}).map(([k, n]) => k + (n > 1 ? " ×" + n : "")).join(", ");
    const card = el("div", { class: "card", id: "report-card" },
      el("strong", {}, "Report card: "), "done right: " + ((rc.good || []).join(", ") || "nothing yet") +
      // "mistakes: none" only for a session that did not fail, as the terminal's card says it.
      (counted(rc.mistakes) ? "; mistakes: " + counted(rc.mistakes) : rc.failed ? "" : "; mistakes: none") +
      (counted(rc.warnings) ? "; warnings: " + counted(rc.warnings) : "") +
      "; delivered: " + rc.delivered + (rc.quit ? "" : "; no QUIT"));
    if (rc.failed) {
      const lr = rc.last_refused;
      // "(greeting)" is the protocol core's name for the greeting: the server refused the session before any command.
      const what = lr && (lr.command === "(greeting)" ? "the greeting" : lr.command);
      const why = lr ? what + " refused: " + lr.reply : "the connection was cut"; // the reply starts with its code
      card.append(el("div", { class: "error" }, "failed: " + why + (rc.unexplained ? " (no mistake the coach knows explains it)" : "")));
    }
    head.append(card);
  }
  const tr = el("div", { class: "transcript", id: "transcript" });
  for (const e of s.transcript) tr.append(entry(e));
  if (s.dropped) tr.append(el("div", { class: "t-note" }, "… " + s.dropped + " more entries not kept"));
  document.getElementById("detail").replaceChildren(head, tr);
}

function entry(e) {
  switch (e.kind) {
    case "received": {
      let line = "C: " + e.line;
      if (e.secret) line += " (credentials)";
      if (e.user) line += " (user " + e.user + ")";
      const d = el("div", { class: "t-received" }, line);
      if (e.annotation) return el("div", {}, d, el("div", { class: "annotation" }, "; " + e.annotation));
      return d;
    }
    case "sent":
      return el("div", { class: "t-sent code" + String(e.code)[0] },
        (e.lines || []).map(l => "S: " + l).join("\n"),
        e.ms !== undefined ? el("span", { class: "ms" }, "  (" + e.ms.toFixed(2) + " ms)") : null);
    case "diagnosis":
      if (!e.diagnosis) return el("div", {});
      return el("div", { class: "diag " + e.diagnosis.severity, dataset: { rule: e.diagnosis.rule } },
        el("div", {}, (e.diagnosis.severity === "warning" ? "warning: " : "!! ") + e.diagnosis.sentence),
        el("div", { class: "advice" }, e.diagnosis.rfc + "; a correct client: " + e.diagnosis.instead + " [" + e.diagnosis.rule + "]"));
    case "message-line":
      return el("div", { class: "t-message-line" }, "C| " + e.line);
    case "report":
      return el("div", { class: "t-note" }, "report card");
    case "closed":
      return el("div", { class: "t-closed" }, "closed" + (e.line ? " (" + e.line + ")" : ""));
    default:
      return el("div", { class: "t-" + e.kind }, e.kind + ": " + (e.line || ""));
  }
}

// Messages

function messageQuery() {
  const p = new URLSearchParams({ limit: "200" });
  for (const k of ["from", "to", "subject"]) {
    const v = document.getElementById("q-" + k).value.trim();
    if (v) p.set(k, v);
  }
  return p.toString();
}

async function loadMessages() {
  const j = await api("GET", "/api/v1/messages?" + messageQuery());
  const rows = j.items.map(m =>
    el("tr", { dataset: { id: m.id }, class: openMessage === m.id ? "selected" : "" },
      el("td", {}, m.id), cell(m.mail_from || m.from), cell((m.rcpt_to || []).join(", ")),
      cell(m.subject), el("td", {}, m.size)));
  document.querySelector("#messages tbody").replaceChildren(...rows);
}
const reloadMessages = debounce(loadMessages, 150);

async function showMessage(id) {
  let m;
  try { m = await api("GET", "/api/v1/messages/" + encodeURIComponent(id)); } catch (e) { return; }
  openMessage = id; openSession = null;
  renderSessions();
  const base = "/api/v1/messages/" + encodeURIComponent(m.id);
  const out = [el("h2", {}, m.subject || "(no subject)"),
    el("dl", { class: "env" },
      el("dt", {}, "MAIL FROM"), el("dd", {}, m.mail_from || "<>"),
      el("dt", {}, "RCPT TO"), el("dd", {}, (m.rcpt_to || []).join(", ")),
      el("dt", {}, "AUTH user"), el("dd", {}, m.auth_user || "none"),
      el("dt", {}, "TLS"), el("dd", {}, m.tls || "none"),
      el("dt", {}, "session"), el("dd", {}, el("a", { href: "#", dataset: { session: m.session } }, String(m.session))),
      el("dt", {}, "size"), el("dd", {}, m.size + " bytes")),
    el("p", {}, el("a", { href: base + "/raw?download=1" }, "download .eml"), " ", el("a", { href: base + "/raw", target: "_blank", rel: "noopener" }, "raw source"))];
  if (m.truncated) out.push(el("p", { class: "error" }, "The message is larger than the view reads; the raw source has all of it."));
  const hdrs = el("dl", { class: "env headers" });
  for (const h of m.headers) hdrs.append(el("dt", {}, h.name), el("dd", {}, h.value));
  out.push(el("details", {}, el("summary", {}, "headers (" + m.headers.length + ")"), hdrs));
  if (m.has_html) {
    // sandbox="" : an opaque origin, no scripts, no forms, no top navigation.
    out.push(el("h3", {}, "HTML part"), el("iframe", { class: "html", id: "html-part", sandbox: "", referrerpolicy: "no-referrer", src: base + "/html", title: "HTML part" }));
  }
  out.push(el("h3", {}, "Text part"), el("pre", { class: "body", id: "text-part" }, m.text || "(none)"));
  if (m.attachments.length) {
    const ul = el("ul", { id: "attachments" });
    for (const a of m.attachments) ul.append(el("li", {}, el("a", { href: base + "/attachments/" + a.index, download: a.filename }, a.filename), " (" + a.content_type + ", " + a.size + " bytes)"));
    out.push(el("h3", {}, "Attachments"), ul);
  }
  document.getElementById("detail").replaceChildren(...out);
}

// Fault plans

async function loadFaults() {
  const j = await api("GET", "/api/v1/faults");
  const items = j.plans.map(p => el("li", {}, el("code", {}, p.plan), " fired " + p.fired + (p.spent ? " (spent)" : "")));
  if (!items.length) items.push(el("li", { class: "hint" }, "none"));
  document.getElementById("fault-list").replaceChildren(...items);
}

async function saveFaults() {
  const plans = document.getElementById("fault-edit").value.split("\n").map(s => s.trim()).filter(Boolean);
  const err = document.getElementById("fault-error");
  try {
    await api("PUT", "/api/v1/faults", { plans });
    err.textContent = "";
  } catch (e) { err.textContent = e.message; }
  loadFaults();
}

// Wiring

function connect() {
  const live = document.getElementById("live");
  const es = new EventSource("/api/v1/events");
  es.onopen = () => {
    live.textContent = "live"; live.className = "live on";
    loadSessions(); loadMessages(); loadFaults();
  };
  es.onerror = () => { live.textContent = "reconnecting…"; live.className = "live off"; };
  es.addEventListener("change", ev => {
    const c = JSON.parse(ev.data);
    switch (c.kind) {
      case "session":
        if (c.session) { sessions.set(c.session.id, c.session); renderSessionsSoon(); }
        if (openSession !== null && String(openSession) === c.id) reloadSession();
        reloadFaults(); // a plan may have fired
        break;
      case "message": reloadMessages(); reloadSessions(); break; // the list's AUTH user may come from the envelope
      case "deleted-session": loadSessions(); break;
      case "deleted-message": loadMessages(); break;
      case "faults": loadFaults(); break;
    }
  });
}
const renderSessionsSoon = debounce(renderSessions, 50);
const reloadFaults = debounce(loadFaults, 300);
const reloadSessions = debounce(loadSessions, 300);

document.addEventListener("DOMContentLoaded", async () => {
  token = (await api("GET", "/api/v1/token")).token;
  document.querySelector("#sessions tbody").addEventListener("click", ev => {
    const tr = ev.target.closest("tr"); if (tr) showSession(Number(tr.dataset.id));
  });
  document.querySelector("#messages tbody").addEventListener("click", ev => {
    const tr = ev.target.closest("tr"); if (tr) showMessage(tr.dataset.id);
  });
  document.getElementById("detail").addEventListener("click", ev => {
    const a = ev.target.closest("a[data-session]");
    if (a) { ev.preventDefault(); showSession(Number(a.dataset.session)); }
  });
  for (const k of ["from", "to", "subject"]) document.getElementById("q-" + k).addEventListener("input", reloadMessages);
  document.getElementById("faults-save").addEventListener("click", saveFaults);
  document.getElementById("faults-clear").addEventListener("click", async () => { await api("DELETE", "/api/v1/faults"); loadFaults(); });
  document.getElementById("sessions-clear").addEventListener("click", () => api("DELETE", "/api/v1/sessions"));
  document.getElementById("messages-clear").addEventListener("click", () => api("DELETE", "/api/v1/messages"));
  connect();
});
