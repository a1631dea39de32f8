/* The offline walk page. The walk list is downloaded when the shift starts, encrypted with
   AES-GCM (WebCrypto) under a key that cannot be read back out of the browser, and kept in
   IndexedDB. Door results are encrypted into an outbox and sent when the phone is online;
   each carries a UUID so a retried sync never doubles a result. Everything is wiped at the
   end of the shift, at sign-out, and when the server says the assignment was taken back. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("walk-config").textContent);
  var labels = document.getElementById("walk-labels").dataset;
  var DB_NAME = "leaven-canvass";
  var CACHE_NAME = "leaven-canvass-v1";
  var state = { walk: null, done: {}, current: null, key: null, db: null, timer: null, lastSync: "" };
  var statusEl = document.getElementById("walk-status");
  var messageEl = document.getElementById("walk-message");
  var doorsEl = document.getElementById("walk-doors");
  var doorPanel = document.getElementById("walk-door");
  var form = document.getElementById("walk-form");
  var lang = (config.language || "en").slice(0, 2) === "es" ? "es" : "en";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  // -- IndexedDB -----------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("kv");
        db.createObjectStore("outbox", { keyPath: "uuid" });
      };
      request.onsuccess = function () {
        var db = request.result;
        db.onversionchange = function () { db.close(); };
        window.LeavenCanvassDB = db;
        resolve(db);
      };
      request.onerror = function () { reject(request.error); };
    });
  }

  function tx(store, mode, fn) {
    return new Promise(function (resolve, reject) {
      var t = state.db.transaction(store, mode);
      var result = fn(t.objectStore(store));
      t.oncomplete = function () { resolve(result instanceof IDBRequest ? result.result : result); };
      t.onerror = function () { reject(t.error); };
      t.onabort = function () { reject(t.error); };
    });
  }
  function kvGet(key) { return tx("kv", "readonly", function (s) { return s.get(key); }); }
  function kvPut(key, value) { return tx("kv", "readwrite", function (s) { s.put(value, key); }); }
  function outboxAll() { return tx("outbox", "readonly", function (s) { return s.getAll(); }); }
  function outboxPut(item) { return tx("outbox", "readwrite", function (s) { s.put(item); }); }
  function outboxDelete(ids) {
    return tx("outbox", "readwrite", function (s) { ids.forEach(function (id) { s.delete(id); }); });
  }

  // -- WebCrypto ------------------------------------------------------------------------
  function getKey() {
    return kvGet("key").then(function (key) {
      if (key) { return key; }
      return crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"])
        .then(function (made) { return kvPut("key", made).then(function () { return made; }); });
    });
  }
  function encrypt(value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var data = new TextEncoder().encode(JSON.stringify(value));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, state.key, data)
      .then(function (ct) { return { iv: iv, ct: new Uint8Array(ct) }; });
  }
  function decrypt(box) {
    return crypto.subtle.decrypt({ name: "AES-GCM", iv: box.iv }, state.key, box.ct)
      .then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
  }

  // -- Wiping ---------------------------------------------------------------------------
  function wipe(message) {
    state.walk = null; state.done = {}; state.db = null;
    doorsEl.textContent = "";
    doorPanel.hidden = true;
    document.getElementById("walk-script").hidden = true;
    showMessage(message);
    return window.LeavenCanvassWipe ? window.LeavenCanvassWipe() : Promise.resolve();
  }
  function expired(meta) {
    return !meta || !meta.expires_at || Date.parse(meta.expires_at) <= Date.now();
  }
  function scheduleExpiry(expiresAt) {
    if (state.timer) { window.clearTimeout(state.timer); }
    var wait = Date.parse(expiresAt) - Date.now();
    if (wait > 0 && wait < 13 * 3600 * 1000) {
      state.timer = window.setTimeout(function () { wipe(labels.wiped); }, wait);
    }
  }

  // -- Messages -------------------------------------------------------------------------
  function showMessage(text) {
    messageEl.textContent = text || "";
    messageEl.hidden = !text;
  }
  function refreshStatus() {
    return outboxAll().then(function (items) {
      var parts = [navigator.onLine ? labels.online : labels.offline];
      if (items.length) { parts.push(labels.pending + ": " + items.length); }
      if (state.lastSync && !items.length) { parts.push(state.lastSync); }
      if (state.walk) {
        parts.push(labels.done + ": " + Object.keys(state.done).length + " / " + state.walk.doors.length);
      }
      statusEl.textContent = parts.join(" · ");
    }).catch(function () { statusEl.textContent = navigator.onLine ? labels.online : labels.offline; });
  }

  // -- Rendering ------------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function stageLabel(stage) { return (config.stages || {})[stage] || stage; }
  function resultLabel(code) {
    var found = (config.results || []).filter(function (r) { return r.code === code; })[0];
    return found ? found.label : code;
  }

  function renderList() {
    doorsEl.textContent = "";
    if (!state.walk) { return; }
    var script = state.walk.script;
    var scriptBox = document.getElementById("walk-script");
    if (script) {
      document.getElementById("walk-script-text").textContent = lang === "es" ? script.text_es : script.text_en;
      scriptBox.hidden = false;
    }
    state.walk.doors.forEach(function (door) {
      var li = el("li", "walk-door-item");
      var button = el("button", "walk-door-button");
      button.type = "button";
      button.dataset.household = door.household_id;
      var top = el("span", "walk-door-address", door.position + ". " + door.address);
      button.appendChild(top);
      var who = door.people.map(function (p) {
        return p.first_name + " (" + p.language.toUpperCase() + ", " + stageLabel(p.stage) + ")";
      }).join(", ");
      button.appendChild(el("span", "walk-door-people", who));
      var done = state.done[door.household_id];
      if (done) {
        li.classList.add("walk-done");
        button.appendChild(el("span", "badge walk-door-result", resultLabel(done)));
      }
      button.addEventListener("click", function () { openDoor(door); });
      li.appendChild(button);
      doorsEl.appendChild(li);
    });
  }

  function radio(name, value, text, checked) {
    var label = el("label", "walk-choice");
    var input = document.createElement("input");
    input.type = "radio"; input.name = name; input.value = value; input.checked = !!checked;
    label.appendChild(input);
    label.appendChild(el("span", "", " " + text));
    return label;
  }
  function check(name, value, text) {
    var label = el("label", "walk-choice");
    var input = document.createElement("input");
    input.type = "checkbox"; input.name = name; input.value = value;
    label.appendChild(input);
    label.appendChild(el("span", "", " " + text));
    return label;
  }

  function renderQuestions() {
    var box = document.getElementById("walk-questions");
    box.textContent = "";
    var script = state.walk && state.walk.script;
    if (!script) { return; }
    script.questions.forEach(function (q) {
      var fs = el("fieldset", "walk-question");
      fs.appendChild(el("legend", "", lang === "es" ? q.text_es : q.text_en));
      var name = "q-" + q.id;
      if (q.kind === "single") {
        q.choices.forEach(function (c) { fs.appendChild(radio(name, c.value, lang === "es" ? c.es : c.en)); });
      } else if (q.kind === "multiple") {
        q.choices.forEach(function (c) { fs.appendChild(check(name, c.value, lang === "es" ? c.es : c.en)); });
      } else if (q.kind === "scale") {
        var row = el("div", "walk-scale");
        ["1", "2", "3", "4", "5"].forEach(function (v) { row.appendChild(radio(name, v, v)); });
        fs.appendChild(row);
        fs.appendChild(el("p", "small muted", labels.supportLow + " · " + labels.supportHigh));
      } else {
        var input = document.createElement("input");
        input.type = "text"; input.name = name; input.maxLength = 500;
        input.setAttribute("aria-label", lang === "es" ? q.text_es : q.text_en);
        fs.appendChild(input);
      }
      box.appendChild(fs);
    });
  }

  function openDoor(door) {
    state.current = door;
    form.reset();
    document.getElementById("walk-form-error").hidden = true;
    var heading = document.getElementById("walk-door-h");
    heading.textContent = door.position + ". " + door.address;
    var people = document.getElementById("walk-people");
    people.textContent = "";
    door.people.forEach(function (p, index) {
      people.appendChild(radio("person", String(p.id),
        p.first_name + " · " + p.language.toUpperCase() + " · " + stageLabel(p.stage), index === 0));
    });
    people.appendChild(radio("person", "", labels.nobody, door.people.length === 0));
    renderQuestions();
    document.getElementById("walk-questions").hidden = true;
    doorsEl.hidden = true;
    doorPanel.hidden = false;
    heading.focus();
  }

  function closeDoor() {
    doorPanel.hidden = true;
    doorsEl.hidden = false;
    state.current = null;
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "result") {
      document.getElementById("walk-questions").hidden = event.target.value !== "spoke";
    }
  });
  document.getElementById("walk-back").addEventListener("click", closeDoor);

  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var door = state.current;
    var data = new FormData(form);
    var result = data.get("result");
    if (!door || !result) { document.getElementById("walk-form-error").hidden = false; return; }
    var answers = [];
    if (result === "spoke" && state.walk.script) {
      state.walk.script.questions.forEach(function (q) {
        var name = "q-" + q.id;
        var value = q.kind === "multiple" ? data.getAll(name) : data.get(name);
        if (value === null || value === "" || (Array.isArray(value) && !value.length)) { return; }
        answers.push({ uuid: uuid(), question_id: q.id, value: value });
      });
    }
    var person = data.get("person");
    var item = {
      uuid: uuid(), household_id: door.household_id, person_id: person ? Number(person) : null,
      result: result, at: new Date().toISOString(), answers: answers
    };
    encrypt(item).then(function (box) {
      return outboxPut({ uuid: item.uuid, box: box });
    }).then(function () {
      state.done[door.household_id] = result;
      return encrypt(state.done).then(function (box) { return kvPut("done", box); });
    }).then(function () {
      showMessage("");
      closeDoor();
      renderList();
      statusEl.textContent = labels.saved;
      return sync();
    });
  });

  // -- Network --------------------------------------------------------------------------
  function endedBy(response) {
    if (response.status === 401) { return labels.signedout; }
    if (response.status === 404 || response.status === 410) { return labels.wiped; }
    return "";
  }

  function download() {
    return fetch(config.walklist_url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        var ended = endedBy(response);
        if (ended) { return wipe(ended).then(function () { return "ended"; }); }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json().then(function (walk) {
          state.walk = walk;
          scheduleExpiry(walk.expires_at);
          return encrypt(walk).then(function (box) {
            return Promise.all([
              kvPut("walk", box),
              kvPut("meta", { assignment: config.assignment, expires_at: walk.expires_at })
            ]);
          }).then(function () { return "ok"; });
        });
      });
  }

  // A first download that meets a weak signal or a busy server (no answer, or a 5xx or 429)
  // is tried again twice, a little later each time, before the page says there is no list.
  var RETRY_DELAYS = [1000, 3000];
  function retryable(error) {
    var status = Number(error && error.message);
    return !status || status >= 500 || status === 429;
  }
  function downloadRetrying(attempt) {
    return download().catch(function (error) {
      if (attempt >= RETRY_DELAYS.length || !navigator.onLine || !retryable(error)) { throw error; }
      return new Promise(function (resolve) { setTimeout(resolve, RETRY_DELAYS[attempt]); })
        .then(function () { return downloadRetrying(attempt + 1); });
    });
  }

  var syncing = null;
  function sync() {
    if (syncing) { return syncing; }
    if (!state.db) { return Promise.resolve(); }
    syncing = outboxAll().then(function (boxes) {
      if (!boxes.length) { return null; }
      return Promise.all(boxes.map(function (b) { return decrypt(b.box); })).then(function (results) {
        return fetch(config.sync_url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
          body: JSON.stringify({ results: results })
        }).then(function (response) {
          var ended = endedBy(response);
          if (ended) { return wipe(ended); }
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json().then(function (outcome) {
            var sent = results.map(function (r) { return r.uuid; });
            return outboxDelete(sent).then(function () {
              showMessage("");
              state.lastSync = labels.synced + ": " + outcome.created +
                (outcome.duplicates ? " (" + outcome.duplicates + " " + labels.already + ")" : "");
              document.body.dataset.lastSync = JSON.stringify(outcome);
            });
          });
        });
      });
    }).catch(function () {
      if (navigator.onLine) { showMessage(labels.syncfail); }
    }).then(function () {
      syncing = null;
      if (state.db) { return refreshStatus(); }
      return null;
    });
    return syncing;
  }

  document.getElementById("walk-sync").addEventListener("click", function () {
    if (!state.walk && navigator.onLine) { start(); return; }
    sync();
  });
  window.addEventListener("online", function () { refreshStatus(); sync(); });
  window.addEventListener("offline", refreshStatus);

  function cacheShell() {
    if (!window.caches) { return Promise.resolve(); }
    var urls = [config.page_url];
    Array.prototype.forEach.call(document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon]"), function (node) {
      urls.push(node.getAttribute("src") || node.getAttribute("href"));
    });
    return caches.open(CACHE_NAME).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) { return cache.put(url, response); }
          return null;
        }).catch(function () { return null; });
      }));
    });
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) { return Promise.resolve(); }
    return navigator.serviceWorker.register(config.sw_url, { scope: config.scope })
      .then(function () { return navigator.serviceWorker.ready; })
      .catch(function () { return null; });
  }

  function loadStored() {
    return kvGet("meta").then(function (meta) {
      if (meta && (meta.assignment !== config.assignment || expired(meta))) {
        return wipe(expired(meta) ? labels.wiped : "").then(function () { return openDb(); })
          .then(function (db) { state.db = db; return getKey(); })
          .then(function (key) { state.key = key; return false; });
      }
      if (!meta) { return false; }
      return kvGet("walk").then(function (box) {
        if (!box) { return false; }
        return decrypt(box).then(function (walk) {
          state.walk = walk;
          scheduleExpiry(meta.expires_at);
          return kvGet("done").then(function (doneBox) {
            return doneBox ? decrypt(doneBox).then(function (done) { state.done = done || {}; }) : null;
          }).then(function () { return true; });
        });
      });
    });
  }

  function start() {
    return openDb().then(function (db) {
      state.db = db;
      return getKey();
    }).then(function (key) {
      state.key = key;
      return loadStored();
    }).then(function (hasStored) {
      if (!navigator.onLine) { return hasStored ? "stored" : "none"; }
      // With a list already on the phone, it is shown at once if the download fails.
      var fetched = hasStored ? download() : downloadRetrying(0);
      return fetched.catch(function () { return hasStored ? "stored" : "none"; });
    }).then(function (how) {
      if (how === "ended") { statusEl.textContent = ""; return null; }
      if (!state.walk) { showMessage(labels.nolist); }
      renderList();
      document.body.dataset.walkReady = "1";
      return refreshStatus().then(function () { return navigator.onLine ? sync() : null; });
    }).catch(function () {
      showMessage(labels.nolist);
    });
  }

  registerWorker().then(function () {
    if (navigator.onLine) { return cacheShell(); }
    return null;
  }).then(function () {
    document.body.dataset.shellReady = "1";
  });
  start();
})();
