// Pan and zoom for the server-drawn lineage graph. Our own code, no libraries; the page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var frame = document.querySelector("[data-graph]");
  var printButton = document.querySelector("[data-print]");
  if (printButton) printButton.addEventListener("click", function () { window.print(); });
  if (!frame) return;
  var svg = frame.querySelector("svg");
  if (!svg) return;
  var box = svg.viewBox.baseVal;
  var W = box.width, H = box.height;
  var MIN = 0.2, MAX = 3;
  // "Fit" never shrinks the drawing below this: its smallest labels (12 px) stay readable at 10 px, and a graph
  // wider than that is panned, starting on the dataset explored.
  var FIT_MIN = 0.85;
  var view = { x: 0, y: 0, s: 1 };

  function size() { return { w: frame.clientWidth, h: frame.clientHeight }; }
  function apply() {
    var f = size();
    svg.setAttribute("width", f.w);
    svg.setAttribute("height", f.h);
    svg.setAttribute("viewBox", [view.x, view.y, f.w / view.s, f.h / view.s].join(" "));
  }
  function fit() {
    var width = frame.clientWidth;
    view.s = Math.max(FIT_MIN, Math.min(1, width / W));
    var height = Math.max(120, Math.min(H * view.s + 4, window.innerHeight * 0.72));
    frame.style.height = height + "px";
    view.x = 0; view.y = 0;
    var root = svg.querySelector(".root rect");
    if (root && (H * view.s > height || W * view.s > width)) centreOn(root); else apply();
  }
  function centreOn(element) {
    var b = element.getBBox(), f = size();
    view.x = b.x + b.width / 2 - f.w / view.s / 2;
    view.y = b.y + b.height / 2 - f.h / view.s / 2;
    apply();
  }
  function zoom(factor, cx, cy) {
    var f = size();
    if (cx === undefined) { cx = f.w / 2; cy = f.h / 2; }
    var px = view.x + cx / view.s, py = view.y + cy / view.s;
    view.s = Math.max(MIN, Math.min(MAX, view.s * factor));
    view.x = px - cx / view.s; view.y = py - cy / view.s;
    apply();
  }
  function pan(dx, dy) { view.x -= dx / view.s; view.y -= dy / view.s; apply(); }

  frame.addEventListener("wheel", function (event) {
    event.preventDefault();
    var r = frame.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - r.left, event.clientY - r.top);
  }, { passive: false });

  var drag = null, dragged = false;
  frame.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY }; dragged = false;
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) return;
    dragged = true; frame.classList.add("dragging");
    drag = { x: event.clientX, y: event.clientY };
    pan(dx, dy);
  });
  window.addEventListener("pointerup", function () { drag = null; frame.classList.remove("dragging"); });
  // A drag that ends on a node is a pan, not a click that re-centres the graph on it.
  frame.addEventListener("click", function (event) { if (dragged) { event.preventDefault(); dragged = false; } }, true);

  frame.addEventListener("keydown", function (event) {
    var step = 60;
    var keys = {
      ArrowLeft: function () { pan(step, 0); }, ArrowRight: function () { pan(-step, 0); },
      ArrowUp: function () { pan(0, step); }, ArrowDown: function () { pan(0, -step); },
      "+": function () { zoom(1.25); }, "=": function () { zoom(1.25); }, "-": function () { zoom(0.8); },
      "0": fit
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
  // Keyboard users tab from node to node: bring the focused one into view.
  frame.addEventListener("focusin", function (event) {
    var node = event.target.closest && event.target.closest(".node");
    if (!node) return;
    var b = node.getBBox(), f = size();
    var left = view.x, top = view.y, right = view.x + f.w / view.s, bottom = view.y + f.h / view.s;
    if (b.x < left || b.x + b.width > right || b.y < top || b.y + b.height > bottom) centreOn(node);
  });

  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var how = button.getAttribute("data-zoom");
      if (how === "in") zoom(1.25); else if (how === "out") zoom(0.8); else fit();
    });
  });
  window.addEventListener("resize", fit);
  fit();
})();
