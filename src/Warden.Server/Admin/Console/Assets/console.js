// The Warden web console: a lazily expanded tree, a node's data, stat and ACL, and live updates from a
// server-sent-events stream backed by a persistent recursive watch. Plain DOM, no build step; every text from
// the tree is set with textContent, never as HTML.
"use strict";

const api = "/console/api/";
const pageSize = 100;
const treeRoot = new URLSearchParams(location.search).get("root") || "/";
let selectedPath = null;
let selectedData = null;
let view = "text";
let loggedIn = false;

const $ = id => document.getElementById(id);

function showMessage(text, isError) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

async function getJson(path) {
  const response = await fetch(api + path, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || body.error || response.statusText);
  return body;
}

async function postJson(path, body) {
  const response = await fetch(api + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Warden-Console": "1" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.message || answer.error || response.statusText);
  return answer;
}

const join = (parent, name) => parent === "/" ? "/" + name : parent + "/" + name;
const parentOf = path => { const cut = path.lastIndexOf("/"); return cut <= 0 ? "/" : path.substring(0, cut); };
const nameOf = path => path === "/" ? "/" : path.substring(path.lastIndexOf("/") + 1);
const itemOf = path => document.querySelector(`li[data-path="${CSS.escape(path)}"]`);

// ---- the tree ----

function makeItem(path, numChildren, ephemeral) {
  const item = document.createElement("li");
  item.dataset.path = path;
  if (ephemeral) item.classList.add("ephemeral");
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "toggle";
  toggle.addEventListener("click", () => toggleItem(item));
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = nameOf(path);
  name.addEventListener("click", () => selectNode(path));
  const children = document.createElement("ul");
  children.hidden = true;
  item.append(toggle, name, children);
  setChildCount(item, numChildren);
  return item;
}

function setChildCount(item, numChildren) {
  item.dataset.children = String(numChildren);
  const toggle = item.querySelector(":scope > .toggle");
  const open = item.dataset.expanded === "true";
  toggle.textContent = numChildren > 0 || open ? (open ? "\u25be" : "\u25b8") : "\u00b7";
}

async function toggleItem(item) {
  if (item.dataset.expanded === "true") {
    item.dataset.expanded = "false";
    item.querySelector(":scope > ul").hidden = true;
    setChildCount(item, Number(item.dataset.children));
    return;
  }
  await expand(item);
}

async function expand(item) {
  const list = item.querySelector(":scope > ul");
  list.replaceChildren();
  item.dataset.expanded = "true";
  list.hidden = false;
  await loadPage(item, null);
  setChildCount(item, Number(item.dataset.children));
}

async function loadPage(item, after) {
  const list = item.querySelector(":scope > ul");
  let page;
  try {
    const query = `children?path=${encodeURIComponent(item.dataset.path)}&limit=${pageSize}` +
      (after === null ? "" : `&after=${encodeURIComponent(after)}`);
    page = await getJson(query);
  } catch (error) {
    showMessage(`${item.dataset.path}: ${error.message}`, true);
    return;
  }
  list.querySelector(":scope > li.more-item")?.remove();
  for (const child of page.children) {
    const path = join(item.dataset.path, child.name);
    if (!itemOf(path)) list.append(makeItem(path, child.numChildren, child.ephemeral));
  }
  item.dataset.children = String(page.total);
  if (page.next !== null) {
    const more = document.createElement("li");
    more.className = "more-item";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "more";
    button.textContent = `more (${page.total} in all)`;
    button.addEventListener("click", () => loadPage(item, page.next));
    more.append(button);
    list.append(more);
    list.dataset.complete = "false";
  } else {
    list.dataset.complete = "true";
  }
}

// A node created under an expanded parent goes in its place in name order, unless the parent shows only its
// first pages and the name sorts after them (the "more" button will bring it).
function onCreated(path) {
  const parent = itemOf(parentOf(path));
  if (!parent) return;
  setChildCount(parent, Number(parent.dataset.children) + 1);
  if (parent.dataset.expanded !== "true" || itemOf(path)) return;
  const list = parent.querySelector(":scope > ul");
  const name = nameOf(path);
  const siblings = [...list.querySelectorAll(":scope > li[data-path]")];
  const before = siblings.find(sibling => nameOf(sibling.dataset.path) > name);
  if (before) list.insertBefore(makeItem(path, 0, false), before);
  else if (list.dataset.complete === "true") list.append(makeItem(path, 0, false));
}

function onDeleted(path) {
  itemOf(path)?.remove();
  const parent = itemOf(parentOf(path));
  if (parent) setChildCount(parent, Math.max(0, Number(parent.dataset.children) - 1));
}

// ---- the selected node ----

async function selectNode(path) {
  selectedPath = path;
  document.querySelectorAll(".name.selected").forEach(name => name.classList.remove("selected"));
  itemOf(path)?.querySelector(":scope > .name").classList.add("selected");
  await showNode();
}

async function showNode() {
  const path = selectedPath;
  $("node-path").textContent = path;
  let node;
  try {
    node = await getJson(`node?path=${encodeURIComponent(path)}`);
  } catch (error) {
    if (path !== selectedPath) return;
    $("node-detail").hidden = true;
    showMessage(`${path}: ${error.message}`, true);
    return;
  }
  if (path !== selectedPath) return;
  selectedData = node.data === null ? null : Uint8Array.from(atob(node.data), c => c.charCodeAt(0));
  renderData();
  renderTable($("stat"), Object.entries(node.stat));
  renderTable($("acl"), node.acl.map(entry => [`${entry.scheme}:${entry.id}`, entry.perms]));
  $("node-detail").hidden = false;
  $("writes").hidden = !loggedIn;
}

function renderData() {
  const target = $("node-data");
  if (selectedData === null) { target.textContent = "null"; return; }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(selectedData);
  if (view === "json") {
    try { target.textContent = JSON.stringify(JSON.parse(text), null, 2); }
    catch { target.textContent = "(not JSON)\n" + text; }
  } else if (view === "hex") {
    target.textContent = hexDump(selectedData);
  } else {
    target.textContent = text;
  }
}

function hexDump(bytes) {
  const lines = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = [...row].map(b => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...row].map(b => b >= 32 && b < 127 ? String.fromCharCode(b) : ".").join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join("\n");
}

function renderTable(table, rows) {
  table.replaceChildren(...rows.map(([key, value]) => {
    const row = document.createElement("tr");
    const name = document.createElement("th");
    name.textContent = key;
    const cell = document.createElement("td");
    cell.textContent = String(value);
    row.append(name, cell);
    return row;
  }));
}

// ---- live updates ----

function watchTree() {
  const stream = new EventSource(api + `events?path=${encodeURIComponent(treeRoot)}`);
  stream.addEventListener("ready", () => {
    $("live-status").textContent = "live";
    $("live-status").classList.add("live");
  });
  stream.addEventListener("change", message => {
    const change = JSON.parse(message.data);
    if (change.type === "NodeCreated") onCreated(change.path);
    if (change.type === "NodeDeleted") onDeleted(change.path);
    if (selectedPath !== null && (change.path === selectedPath || parentOf(change.path) === selectedPath)) showNode();
  });
  // The browser reconnects a dropped stream by itself; the status shows the gap.
  stream.addEventListener("error", () => {
    $("live-status").textContent = "reconnecting";
    $("live-status").classList.remove("live");
  });
}

// ---- login and writes ----

async function refreshLogin() {
  const state = await getJson("login");
  loggedIn = state.loggedIn;
  $("login-state").textContent = loggedIn ? "logged in as super" : state.canLogIn ? "read-only" : "read-only (no super digest set)";
  $("login-password").hidden = loggedIn || !state.canLogIn;
  $("login-button").hidden = loggedIn || !state.canLogIn;
  $("logout-button").hidden = !loggedIn;
  $("writes").hidden = !loggedIn || selectedPath === null;
}

const toBase64 = text => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

async function write(question, action, body) {
  if (!confirm(question)) return;
  try {
    await postJson(action, body);
    showMessage(`${action} ${body.path}: done`, false);
  } catch (error) {
    showMessage(`${action} ${body.path}: ${error.message}`, true);
  }
}

function wire() {
  document.querySelectorAll(".tab").forEach(tab => tab.addEventListener("click", () => {
    document.querySelectorAll(".tab").forEach(other => other.classList.toggle("selected", other === tab));
    document.querySelectorAll(".tab-page").forEach(page => { page.hidden = page.id !== tab.dataset.tab; });
    if (tab.dataset.tab === "ensemble-tab") showEnsemble();
    if (tab.dataset.tab === "connections-tab") showConnections();
  }));
  document.querySelectorAll(".refresh").forEach(button => button.addEventListener("click",
    () => button.dataset.refresh === "ensemble" ? showEnsemble() : showConnections()));
  document.querySelectorAll(".view").forEach(button => button.addEventListener("click", () => {
    view = button.dataset.view;
    document.querySelectorAll(".view").forEach(other => other.classList.toggle("selected", other === button));
    renderData();
  }));
  $("login-form").addEventListener("submit", async event => {
    event.preventDefault();
    try {
      await postJson("login", { password: $("login-password").value });
      $("login-password").value = "";
      showMessage("logged in", false);
    } catch (error) {
      showMessage(`login: ${error.message}`, true);
    }
    await refreshLogin();
  });
  $("logout-button").addEventListener("click", async () => {
    await postJson("logout", {});
    await refreshLogin();
  });
  $("set-button").addEventListener("click", () => write(`Set the data of ${selectedPath}?`, "set",
    { path: selectedPath, data: toBase64($("edit-data").value), version: -1 }));
  $("create-button").addEventListener("click", () => {
    const child = join(selectedPath, $("child-name").value);
    write(`Create ${child}?`, "create", { path: child, data: toBase64($("edit-data").value) });
  });
  $("delete-button").addEventListener("click", () => write(`Delete ${selectedPath}?`, "delete",
    { path: selectedPath, version: -1 }));
}

// ---- ensemble and connections ----

async function showEnsemble() {
  try {
    const ensemble = await getJson("ensemble");
    const server = ensemble.server || {};
    renderTable($("server"), [
      ["mode", server.server_state ?? ensemble.error],
      ["peer state", ensemble.peer_state ?? ""],
      ["last zxid", server.last_processed_zxid === undefined ? "" : "0x" + Number(server.last_processed_zxid).toString(16)],
      ["connections", server.num_alive_client_connections ?? ""],
      ["outstanding requests", server.outstanding_requests ?? ""],
      ["synced followers", ensemble.synced_followers ?? ""],
    ]);
    const head = ["server", "mode", "zxid", "lag (txns)", "quorum address", "client address"];
    const header = document.createElement("tr");
    header.append(...head.map(text => { const cell = document.createElement("th"); cell.textContent = text; return cell; }));
    const rows = ensemble.members.map(member => {
      const row = document.createElement("tr");
      row.dataset.member = member.id;
      row.append(...[`server.${member.id}${member.self ? " (this one)" : ""}`, member.mode ?? member.error ?? "",
        member.zxid ?? "", member.lag ?? "", member.server_address ?? "", member.client_address ?? ""].map(value => {
        const cell = document.createElement("td"); cell.textContent = String(value); return cell;
      }));
      return row;
    });
    $("members").replaceChildren(header, ...rows);
  } catch (error) {
    showMessage(`ensemble: ${error.message}`, true);
  }
}

async function showConnections() {
  try {
    const answer = await getJson("connections");
    const table = $("connections");
    const head = ["remote", "session", "timeout ms", "received", "sent", "outstanding", "last operation"];
    const header = document.createElement("tr");
    header.append(...head.map(text => { const cell = document.createElement("th"); cell.textContent = text; return cell; }));
    const rows = answer.connections.map(connection => {
      const row = document.createElement("tr");
      row.append(...[connection.remote_socket_address, "0x" + Number(connection.session_id).toString(16),
        connection.session_timeout, connection.packets_received, connection.packets_sent,
        connection.outstanding_requests, connection.last_operation].map(value => {
        const cell = document.createElement("td"); cell.textContent = String(value); return cell;
      }));
      return row;
    });
    table.replaceChildren(header, ...rows);
  } catch (error) {
    showMessage(`connections: ${error.message}`, true);
  }
}

async function start() {
  wire();
  const root = makeItem(treeRoot, 1, false);
  $("tree").append(root);
  watchTree();
  await refreshLogin();
  await expand(root);
  await selectNode(treeRoot);
}

start();
