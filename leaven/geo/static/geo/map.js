/* The map of wards and precincts. Reads its settings from the JSON element #geo-map-config
   (no inline script: the Content-Security-Policy forbids it), draws the shapes as SVG paths,
   and opens a precinct's page when it is selected. Without a tile server the shapes draw on
   a plain background. */
(function () {
  "use strict";
  var holder = document.getElementById("geo-map");
  var configElement = document.getElementById("geo-map-config");
  if (!holder || !configElement || typeof L === "undefined") { return; }
  var config = JSON.parse(configElement.textContent);
  var labels = config.labels || {};

  var map = L.map(holder, { preferCanvas: false, zoomSnap: 0.25, attributionControl: !!config.tiles });
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
  } else {
    holder.classList.add("geo-map-plain");
  }

  function text(value) { return document.createTextNode(String(value)); }

  function tooltip(properties) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.appendChild(text((properties.kind === "ward" ? labels.ward : labels.precinct) + " " + properties.name));
    box.appendChild(title);
    ["households", "people", "registered", "not_registered"].forEach(function (key) {
      box.appendChild(document.createElement("br"));
      box.appendChild(text(labels[key] + ": " + properties[key]));
    });
    return box;
  }

  fetch(config.data_url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    })
    .then(function (collection) {
      var precincts = collection.features.filter(function (f) { return f.properties.kind === "precinct"; });
      var wards = collection.features.filter(function (f) { return f.properties.kind === "ward"; });
      var most = 1;
      precincts.forEach(function (f) { most = Math.max(most, f.properties.people); });

      var precinctLayer = L.geoJSON(precincts, {
        style: function (feature) {
          var share = feature.properties.people / most;
          return { className: "geo-precinct", color: "#8a2f14", weight: 1.5, fillColor: "#8a2f14",
                   fillOpacity: 0.08 + 0.5 * share };
        },
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(tooltip(feature.properties), { sticky: true });
          layer.on("click", function () { window.location.assign(feature.properties.url); });
          layer.on("add", function () {
            var path = layer.getElement && layer.getElement();
            if (path) {
              path.setAttribute("data-code", feature.properties.code);
              path.setAttribute("role", "link");
              path.setAttribute("aria-label", labels.precinct + " " + feature.properties.name);
            }
          });
        }
      }).addTo(map);
      var wardLayer = L.geoJSON(wards, {
        interactive: false,
        style: function () { return { className: "geo-ward", color: "#1d1b19", weight: 3, fill: false }; }
      }).addTo(map);

      var bounds = precinctLayer.getBounds();
      if (wards.length) { bounds.extend(wardLayer.getBounds()); }
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); }
      holder.setAttribute("data-ready", "true");
    })
    .catch(function () {
      holder.setAttribute("data-ready", "error");
      holder.classList.add("geo-map-failed");
    });
})();
