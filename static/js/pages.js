// Behaviours of the resource pages, on top of htmx: the live mask/zone preview, the schedule grid,
// optimization presets, and focus on a message swapped into #messages. Everything works on content
// that htmx swaps in later (event delegation plus htmx:load). Without JavaScript the pages still work.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var SVG_NS = "http://www.w3.org/2000/svg";

  // ---- masks and zones: draw what is typed --------------------------------------------------------

  function isNumber(value) { return typeof value === "number" && isFinite(value); }

  function svgElement(name, attrs) {
    var el = document.createElementNS(SVG_NS, name);
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    return el;
  }

  function parsePolygons(text) {
    if (!text.trim()) { return { polygons: [] }; }
    try {
      var data = JSON.parse(text);
      if (!Array.isArray(data)) { return { error: "Expected a list of polygons: [[[x, y], …], …]" }; }
      return { polygons: data };
    } catch (err) {
      return { error: "Not valid JSON yet (" + err.message + ")." };
    }
  }

  function draw(editor) {
    var input = editor.querySelector("[data-polygon-input]");
    var svg = editor.querySelector("[data-polygon-svg]");
    var layer = svg.querySelector("[data-shapes]");
    var status = editor.querySelector("[data-polygon-status]");
    var w = Number(svg.getAttribute("data-width"));
    var h = Number(svg.getAttribute("data-height"));
    var parsed = parsePolygons(input.value);
    if (parsed.error) { status.textContent = parsed.error; return; }  // keep the last good drawing
    while (layer.firstChild) { layer.removeChild(layer.firstChild); }
    var drawn = 0, bad = 0;
    parsed.polygons.slice(0, 64).forEach(function (polygon, index) {
      if (!Array.isArray(polygon)) { bad += 1; return; }
      var ok = polygon.length >= 3, points = [];
      polygon.forEach(function (point) {
        if (Array.isArray(point) && point.length === 2 && isNumber(point[0]) && isNumber(point[1])) {
          ok = ok && point[0] >= 0 && point[0] <= 1 && point[1] >= 0 && point[1] <= 1;
          points.push([Math.min(Math.max(point[0], -0.1), 1.1) * w, Math.min(Math.max(point[1], -0.1), 1.1) * h]);
        } else { ok = false; }
      });
      if (!points.length) { bad += 1; return; }
      var cx = 0, cy = 0;
      points.forEach(function (p) { cx += p[0]; cy += p[1]; });
      layer.appendChild(svgElement("polygon", {
        "class": ok ? "shape" : "shape shape-bad",
        points: points.map(function (p) { return p[0].toFixed(2) + "," + p[1].toFixed(2); }).join(" ")
      }));
      var label = svgElement("text", { "class": "shape-label", x: (cx / points.length).toFixed(2), y: (cy / points.length).toFixed(2) });
      label.textContent = String(index + 1);
      layer.appendChild(label);
      drawn += 1;
      if (!ok) { bad += 1; }
    });
    if (!drawn) { status.textContent = "Nothing drawn yet: type polygons on the left, or click the frame."; return; }
    status.textContent = drawn + (drawn === 1 ? " polygon" : " polygons") + " drawn" +
      (bad ? "; red ones are not valid yet (at least 3 points, x and y from 0 to 1)." : ".");
  }

  function formatPolygons(polygons) {
    if (!polygons.length) { return ""; }
    return "[\n  " + polygons.map(function (p) { return JSON.stringify(p).replace(/,/g, ", "); }).join(",\n  ") + "\n]";
  }

  // Clicking the frame adds a point to the last polygon (or starts one after "New polygon").
  function addPoint(editor, event) {
    var svg = editor.querySelector("[data-polygon-svg]");
    var input = editor.querySelector("[data-polygon-input]");
    var parsed = parsePolygons(input.value);
    if (parsed.error) { return; }
    var box = svg.getBoundingClientRect();
    var x = Math.round(((event.clientX - box.left) / box.width) * 1000) / 1000;
    var y = Math.round(((event.clientY - box.top) / box.height) * 1000) / 1000;
    var polygons = parsed.polygons;
    if (!polygons.length || editor.hasAttribute("data-start-new")) { polygons.push([]); }
    editor.removeAttribute("data-start-new");
    polygons[polygons.length - 1].push([Math.min(Math.max(x, 0), 1), Math.min(Math.max(y, 0), 1)]);
    input.value = formatPolygons(polygons);
    draw(editor);
  }

  // ---- the schedule grid --------------------------------------------------------------------------

  function windowNote(row) {
    var inputs = row.querySelectorAll("input[type=time]");
    var note = row.querySelector("[data-window-note]");
    if (!note || inputs.length < 2) { return; }
    var start = inputs[0].value, end = inputs[1].value;
    if (start && end === "00:00") { note.textContent = "until midnight (24:00)"; }
    else if (start && end && end < start) { note.textContent = "overnight, ends " + note.getAttribute("data-next-day") + " " + end; }
    else { note.textContent = ""; }
  }

  function rowIndex(row) {
    var match = /-(\d+)-start$/.exec(row.querySelector("input[type=time]").name);
    return match ? Number(match[1]) : 0;
  }

  function addWindow(button) {
    var list = button.closest("[data-windows]");
    var rows = list.querySelectorAll("[data-window]");
    var template = rows[rows.length - 1];
    var next = 0;
    rows.forEach(function (r) { next = Math.max(next, rowIndex(r) + 1); });
    var copy = template.cloneNode(true);
    var old = rowIndex(template);
    copy.querySelectorAll("input, label").forEach(function (el) {
      ["id", "name", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace("-" + old + "-", "-" + next + "-")); }
      });
      if (el.tagName === "INPUT") { el.value = ""; el.removeAttribute("aria-invalid"); }
      if (el.tagName === "LABEL") { el.textContent = el.textContent.replace(/window \d+/, "window " + (next + 1)); }
    });
    copy.querySelector("[data-window-note]").textContent = "";
    list.insertBefore(copy, button);
    copy.querySelector("input").focus();
  }

  function removeWindow(button) {
    var row = button.closest("[data-window]");
    var list = row.closest("[data-windows]");
    if (list.querySelectorAll("[data-window]").length > 1) {
      var add = list.querySelector("[data-add-window]");
      row.remove();
      if (add) { add.focus(); }
    } else {
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      windowNote(row);
      row.querySelector("input").focus();
    }
  }

  function tidySchedule(root) {
    // The server adds a blank spare row for browsers without JavaScript; here "Add window" does that.
    root.querySelectorAll("[data-windows]").forEach(function (list) {
      var rows = list.querySelectorAll("[data-window]");
      var last = rows[rows.length - 1];
      if (rows.length > 1 && last && !Array.prototype.some.call(last.querySelectorAll("input"), function (i) { return i.value; })) {
        last.remove();
      }
    });
  }

  // ---- optimization presets -----------------------------------------------------------------------

  function applyPreset(select) {
    var presets = JSON.parse(select.getAttribute("data-presets") || "{}");
    var values = presets[select.value];
    if (!values) { return; }
    Object.keys(values).forEach(function (key) {
      var field = select.form.querySelector("[name=" + key + "]");
      if (field) { field.value = values[key]; }
    });
    var note = select.form.querySelector("[data-preset-note]");
    if (note) { note.textContent = "Filled in the values of this preset; save to keep them."; }
  }

  // ---- wiring -------------------------------------------------------------------------------------

  function init(root) {
    if (!root || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-polygon-editor]").forEach(draw);
    tidySchedule(root);
  }

  document.addEventListener("input", function (event) {
    var editor = event.target.closest("[data-polygon-editor]");
    if (editor && event.target.matches("[data-polygon-input]")) { draw(editor); }
    var row = event.target.closest("[data-window]");
    if (row) { windowNote(row); }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-preset-select]")) { applyPreset(event.target); }
  });

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-window]");
    if (add) { addWindow(add); return; }
    var remove = event.target.closest("[data-remove-window]");
    if (remove) { removeWindow(remove); return; }
    var start = event.target.closest("[data-new-polygon]");
    if (start) {
      var editor = start.closest("[data-polygon-editor]");
      editor.setAttribute("data-start-new", "");
      editor.querySelector("[data-polygon-status]").textContent = "Click the frame to place the first point of the new polygon.";
      return;
    }
    var svg = event.target.closest("[data-polygon-svg]");
    if (svg) { addPoint(svg.closest("[data-polygon-editor]"), event); }
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var message = event.detail.target && event.detail.target.querySelector("[data-focus-message]");
    if (message) { message.focus(); }
  });

  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
