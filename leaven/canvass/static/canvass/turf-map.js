/* The turf map: precinct outlines, each turf's doors and walking route in its colour with
   its door count, and (on the cutting page) drawing an area by tapping its corners. Reads
   its settings from #canvass-map-config; no inline script. */
(function () {
  "use strict";
  var holder = document.getElementById("turf-map");
  var configElement = document.getElementById("canvass-map-config");
  if (!holder || !configElement || typeof L === "undefined") { return; }
  var config = JSON.parse(configElement.textContent);
  var labels = config.labels || {};
  var map = L.map(holder, { zoomSnap: 0.25, attributionControl: !!config.tiles });
  if (config.tiles) { L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map); }
  else { holder.classList.add("geo-map-plain"); }
  var bounds = L.latLngBounds([]);

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); });
  }

  function fit() {
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16] }); }
    else { map.setView([41.85, -87.66], 12); }
  }

  var loads = [];
  if (config.boundaries_url) {
    loads.push(getJson(config.boundaries_url).then(function (collection) {
      var precincts = collection.features.filter(function (f) { return f.properties.kind === "precinct"; });
      var layer = L.geoJSON(precincts, {
        style: function () { return { color: "#5c5650", weight: 1, fill: false, dashArray: "4 4" }; },
        onEachFeature: function (feature, shape) { shape.bindTooltip(feature.properties.name); }
      }).addTo(map);
      layer.bringToBack();
    }).catch(function () { return null; }));
  }
  loads.push(getJson(config.data_url).then(function (collection) {
    collection.features.forEach(function (feature) {
      var p = feature.properties;
      var coords = feature.geometry.coordinates.map(function (c) { return [c[1], c[0]]; });
      if (!coords.length) { return; }
      var label = p.name + " · " + p.doors + " " + (labels.doors || "");
      L.polyline(coords, { color: p.color, weight: 3, opacity: 0.8 }).bindTooltip(label, { sticky: true }).addTo(map)
        .on("click", function () { window.location.assign(p.url); });
      coords.forEach(function (c) {
        L.circleMarker(c, { radius: 4, color: p.color, fillColor: p.color, fillOpacity: 0.9, weight: 1 })
          .bindTooltip(label).addTo(map);
        bounds.extend(c);
      });
      var middle = coords[Math.floor(coords.length / 2)];
      L.marker(middle, {
        icon: L.divIcon({ className: "canvass-count", html: String(p.doors), iconSize: [30, 22] }),
        keyboard: false
      }).addTo(map);
    });
  }).catch(function () { holder.classList.add("geo-map-failed"); }));
  Promise.all(loads).then(fit);

  // Drawing an area: tap corners; the polygon goes into the form's hidden field.
  var toggle = document.getElementById("draw-toggle");
  var clear = document.getElementById("draw-clear");
  var field = document.getElementById("id_polygon");
  var status = document.getElementById("draw-status");
  if (!toggle || !field) { return; }
  var drawing = false;
  var corners = [];
  var shape = null;

  function redraw() {
    if (shape) { map.removeLayer(shape); shape = null; }
    if (corners.length >= 2) {
      shape = L.polygon(corners, { color: "#1a5fb4", weight: 2, fillOpacity: 0.1 }).addTo(map);
    }
    if (corners.length >= 3) {
      var ring = corners.map(function (c) { return [c.lng, c.lat]; });
      ring.push(ring[0]);
      field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    } else {
      field.value = "";
    }
    if (status) { status.textContent = corners.length ? String(corners.length) : ""; }
  }
  if (field.value) {
    try {
      JSON.parse(field.value).coordinates[0].slice(0, -1).forEach(function (c) { corners.push(L.latLng(c[1], c[0])); });
      redraw();
    } catch (e) { field.value = ""; }
  }
  toggle.addEventListener("click", function () {
    drawing = !drawing;
    toggle.setAttribute("aria-pressed", drawing ? "true" : "false");
    holder.classList.toggle("canvass-drawing", drawing);
  });
  clear.addEventListener("click", function () { corners = []; redraw(); });
  map.on("click", function (event) {
    if (!drawing) { return; }
    corners.push(event.latlng);
    redraw();
  });
})();
