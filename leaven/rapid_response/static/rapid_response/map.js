/* Rapid-response maps. Reads #rapid-map-config (no inline script under the
   Content-Security-Policy). On the dashboard and incident pages it draws incidents as
   pins colored by state and fits the map to them; on the public report page ("pick") a tap puts a pin and fills the hidden
   lat/lon fields. Without JavaScript the report form still works with cross streets. */
(function () {
  "use strict";
  var holder = document.getElementById("rapid-map");
  var configElement = document.getElementById("rapid-map-config");
  if (!holder || !configElement || typeof L === "undefined") { return; }
  var config = JSON.parse(configElement.textContent);
  holder.hidden = false;
  var map = L.map(holder, { attributionControl: !!config.tiles }).setView(config.centre, 12);
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
  } else {
    holder.classList.add("rapid-map-plain");
  }
  var bounds = [];
  (config.points || []).forEach(function (point) {
    // A pin, colored by state (see leaven.css), large enough to see at city zoom.
    var state = point.state || "reported";
    var icon = L.divIcon({
      className: "rapid-pin rapid-pin-" + state,
      html: "<span></span>",
      iconSize: [34, 40],
      iconAnchor: [17, 40],
      tooltipAnchor: [0, -30]
    });
    var marker = L.marker(point.at, { icon: icon, title: point.label, alt: point.label, keyboard: true }).addTo(map);
    marker.bindTooltip(point.label);
    if (point.url) { marker.on("click", function () { window.location.href = point.url; }); }
    bounds.push(point.at);
  });
  function fit() {
    if (bounds.length > 1) {
      map.fitBounds(bounds, { paddingTopLeft: [40, 60], paddingBottomRight: [40, 20], maxZoom: 15, animate: false });
    } else if (bounds.length === 1) {
      map.setView(bounds[0], 14, { animate: false });
    }
  }
  fit();
  // The map may be sized before the stylesheet has set its height: once the page has
  // loaded, measure it again and fit the pins to its real size.
  window.addEventListener("load", function () {
    map.invalidateSize({ animate: false });
    fit();
  });
  if (!config.pick) { return; }
  var lat = document.querySelector("input[name=lat]");
  var lon = document.querySelector("input[name=lon]");
  var hint = document.getElementById("rapid-pin-state");
  if (hint) { hint.hidden = false; }
  var pin = null;
  function place(latlng) {
    if (pin) { pin.setLatLng(latlng); } else { pin = L.circleMarker(latlng, { radius: 12, color: "#ffffff", weight: 3, fillColor: "#1d4ed8", fillOpacity: 0.9 }).addTo(map); }
    lat.value = latlng.lat.toFixed(5);
    lon.value = latlng.lng.toFixed(5);
  }
  if (lat && lat.value && lon.value) { place(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); }
  map.on("click", function (event) { place(event.latlng); });
}());
