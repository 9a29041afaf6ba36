// The map page: networks and the GPS track on Leaflet, offline. With a tile archive on the
// device (the page's data-tiles), a tile layer from /tiles/ with the archive's zoom range,
// bounds and attribution; without one (or outside its zoom range), a plain Web Mercator grid
// (graticule). A scale bar either way. Everything from the air reaches the page as text nodes
// (textContent), never as HTML, and the archive's attribution is escaped before Leaflet sees
// it.
"use strict";
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var status = document.getElementById("map-status");
  function say(text) { if (status) { status.textContent = text; } }

  // maxZoom set here: otherwise Leaflet stops at the tile layer's deepest level.
  var map = L.map(el, { preferCanvas: true, worldCopyJump: true, attributionControl: false, maxZoom: 19 });
  L.control.scale({ imperial: false }).addTo(map);

  function escapeHtml(s) {
    var d = document.createElement("div");
    d.textContent = s;
    return d.innerHTML;
  }
  // "west,south,east,north" -> LatLngBounds, or null.
  function parseBounds(s) {
    var v = (s || "").split(",").map(Number);
    if (v.length !== 4 || v.some(isNaN)) { return null; }
    return L.latLngBounds([v[1], v[0]], [v[3], v[2]]);
  }

  // With tiles: Leaflet enlarges the archive's deepest level up to OVERZOOM levels closer in
  // (16x; more, and the browser stops drawing the giant images). Outside the tiles' zoom
  // range the grid is drawn instead.
  var OVERZOOM = 4;
  var tiles = null;
  var tileBounds = null;
  if (el.dataset.tiles) {
    tiles = { min: Number(el.dataset.minzoom), max: Math.min(19, Number(el.dataset.maxzoom) + OVERZOOM) };
    tileBounds = parseBounds(el.dataset.bounds);
    var opts = {
      minZoom: tiles.min,
      maxNativeZoom: Number(el.dataset.maxzoom),
      maxZoom: tiles.max,
      // No requests for tiles the archive cannot have.
      noWrap: true
    };
    if (tileBounds) { opts.bounds = tileBounds; }
    L.tileLayer(el.dataset.tiles, opts).addTo(map);
    if (el.dataset.attribution) {
      // No prefix: Leaflet's own is a link off the device.
      L.control.attribution({ prefix: false }).addAttribution(escapeHtml(el.dataset.attribution)).addTo(map);
    }
    el.dataset.layer = "tiles";
  } else {
    el.dataset.layer = "grid";
  }

  // Graticule: lines every `step` degrees, the step chosen so about 4-10 lines cross the view.
  var STEPS = [30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001];
  var grid = L.layerGroup().addTo(map);
  function drawGrid() {
    grid.clearLayers();
    var z = map.getZoom();
    var shown = !tiles || z < tiles.min || z > tiles.max;
    el.dataset.grid = shown ? "shown" : "hidden";
    if (!shown) { return; }
    var b = map.getBounds();
    var span = Math.max(b.getEast() - b.getWest(), b.getNorth() - b.getSouth());
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) { if (span / STEPS[i] >= 4) { step = STEPS[i]; break; } }
    var style = { color: "#8b949e", weight: 1, opacity: 0.5, interactive: false };
    var south = Math.max(b.getSouth(), -85), north = Math.min(b.getNorth(), 85);
    for (var x = Math.floor(b.getWest() / step) * step; x <= b.getEast(); x += step) {
      grid.addLayer(L.polyline([[south, x], [north, x]], style));
    }
    for (var y = Math.floor(south / step) * step; y <= north; y += step) {
      grid.addLayer(L.polyline([[y, b.getWest()], [y, b.getEast()]], style));
    }
  }
  map.on("moveend", drawGrid);
  if (tileBounds) { map.fitBounds(tileBounds); } else { map.setView([20, 0], 2); }

  var COLORS = { OPEN: "#cf222e", WEP: "#cf222e", WPA: "#bf8700" };
  function colorFor(security) {
    if (!security) { return "#6a737d"; }
    return COLORS[security] || "#1a7f37";
  }
  function popupFor(p) {
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = p.ssid === null || p.ssid === undefined || p.ssid === "" ? "(hidden)" : p.ssid;
    box.appendChild(name);
    var lines = [p.bssid, p.security + (p.channel ? " · ch " + p.channel : ""),
      p.signal !== null && p.signal !== undefined ? p.signal + " dBm" : ""];
    lines.forEach(function (t) {
      if (!t) { return; }
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(t));
    });
    box.appendChild(document.createElement("br"));
    var a = document.createElement("a");
    a.href = "/networks/" + encodeURIComponent(p.bssid);
    a.textContent = "details";
    box.appendChild(a);
    return box;
  }

  var bounds = L.latLngBounds([]);
  var count = 0;
  function load(url, what) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(what + ": HTTP " + r.status); }
      return r.json();
    });
  }
  var nets = load(el.dataset.networks, "networks").then(function (fc) {
    var layer = L.geoJSON(fc, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 5, weight: 1, color: "#fff",
          fillColor: colorFor(f.properties.security), fillOpacity: 0.9 });
      },
      onEachFeature: function (f, l) { l.bindPopup(function () { return popupFor(f.properties); }); }
    }).addTo(map);
    count = fc.features.length;
    if (count > 0) { bounds.extend(layer.getBounds()); }
  });
  var track = load(el.dataset.track, "track").then(function (g) {
    if (g.geometry && g.geometry.coordinates.length > 1) {
      var t = L.geoJSON(g, { style: { color: "#e36209", weight: 3, opacity: 0.8 } }).addTo(map);
      bounds.extend(t.getBounds());
    }
  });
  Promise.all([nets, track]).then(function () {
    // With tiles, the first view stays where they are drawn (closer in is the grid).
    var fitZoom = tiles ? Math.min(18, tiles.max) : 18;
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: fitZoom }); }
    say(count + " network" + (count === 1 ? "" : "s") + " with a position");
    el.dataset.loaded = String(count);
  }).catch(function (e) { say("Could not load the map data: " + e.message); });
}());
