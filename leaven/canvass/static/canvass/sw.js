/* The canvass service worker: keeps the walk page and its scripts and styles so the page
   opens with no signal. It never stores the walk list or results: those live encrypted in
   IndexedDB, written by the page. Network first, the cache only when offline. It also wipes
   the walk list when the user signs out from any page of the site. */
"use strict";
var CACHE_NAME = "leaven-canvass-v1";
var LOGOUT_PATH = "__LOGOUT_PATH__";
var WALK_PAGE = /^\/canvass\/walk\/\d+\/$/;

function wipeAll() {
  var db = new Promise(function (resolve) {
    var request = indexedDB.deleteDatabase("leaven-canvass");
    request.onsuccess = request.onerror = function () { resolve(); };
  });
  var stored = caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("leaven-canvass") === 0;
    }).map(function (name) { return caches.delete(name); }));
  });
  return Promise.all([db, stored]);
}

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("leaven-canvass") === 0 && name !== CACHE_NAME;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function isShell(request, url) {
  if (url.origin !== self.location.origin || request.method !== "GET") { return false; }
  if (url.pathname.indexOf("/static/") === 0) {
    return (request.referrer || "").indexOf("/canvass/walk/") !== -1;
  }
  return request.mode === "navigate" && WALK_PAGE.test(url.pathname);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method === "POST" && url.origin === self.location.origin && url.pathname === LOGOUT_PATH) {
    event.waitUntil(wipeAll());
    return;
  }
  if (!isShell(request, url)) { return; }
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected && response.type === "basic") {
        var copy = response.clone();
        caches.open(CACHE_NAME).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, { ignoreSearch: true }).then(function (hit) {
        return hit || Response.error();
      });
    })
  );
});
