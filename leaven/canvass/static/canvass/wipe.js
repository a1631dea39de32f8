/* Removes every trace of the offline walk list from this browser: the encrypted IndexedDB
   database (and its key), the service worker's cached pages and any canvass keys in
   localStorage. Runs before the sign-out form is sent, and whenever the server says an
   assignment was revoked or the shift is over. Loaded on every canvass page. */
(function () {
  "use strict";
  var DB_NAME = "leaven-canvass";
  var CACHE_PREFIX = "leaven-canvass";

  function deleteDatabase() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(); return; }
      if (window.LeavenCanvassDB) {
        try { window.LeavenCanvassDB.close(); } catch (e) { /* already closed */ }
        window.LeavenCanvassDB = null;
      }
      var request = window.indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = function () { resolve(); };
      request.onerror = function () { resolve(); };
      request.onblocked = function () { /* other tabs close on versionchange */ };
    });
  }

  function deleteCaches() {
    if (!window.caches) { return Promise.resolve(); }
    return window.caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(CACHE_PREFIX) === 0;
      }).map(function (name) { return window.caches.delete(name); }));
    }).catch(function () { return undefined; });
  }

  function clearLocalStorage() {
    try {
      var doomed = [];
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(CACHE_PREFIX) === 0) { doomed.push(key); }
      }
      doomed.forEach(function (key) { window.localStorage.removeItem(key); });
    } catch (e) { /* storage disabled */ }
  }

  function wipe() {
    clearLocalStorage();
    return Promise.all([deleteDatabase(), deleteCaches()]).then(function () { return true; });
  }

  window.LeavenCanvassWipe = wipe;

  // Sign-out: wipe first, then let the form go (a programmatic submit fires no new event).
  var forms = document.querySelectorAll("form.signout");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.wiped === "1") { return; }
      event.preventDefault();
      var go = function () { form.dataset.wiped = "1"; form.submit(); };
      var timer = window.setTimeout(go, 3000);
      wipe().then(function () { window.clearTimeout(timer); go(); }, go);
    });
  });
})();
