// The lineage graph of a mapping (templates/mappings/entity.html, attribute.html).
document.addEventListener("DOMContentLoaded", function () {
  if (!document.getElementById("lineage-data")) {
    return;  // no graph on this page
  }
  const graph = JSON.parse(document.getElementById("lineage-data").textContent);
  const colours = {column: "#455a64", rule: "#b35c00", attribute: "#1f5fa8"};
  const box = document.getElementById("lineage");
  const rows = Math.max(graph.nodes.filter(n => n.data.kind !== "rule").length, 2);
  box.style.height = Math.min(60 * rows + 80, 1400) + "px";
  window.lineageGraph = cytoscape({
    container: box, elements: graph.nodes.concat(graph.edges), layout: {name: "preset", padding: 30},
    userZoomingEnabled: false, boxSelectionEnabled: false,
    style: [
      {selector: "node", style: {"shape": "round-rectangle", "background-color": n => colours[n.data("kind")], "label": "data(label)",
        "color": "#fff", "font-size": 11, "text-valign": "center", "text-halign": "center",
        "width": n => 7 * n.data("label").length + 12, "height": 24,
        "font-family": "monospace"}},
      {selector: "edge", style: {"curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.4,
        "line-color": "#9aa4b1", "target-arrow-color": "#9aa4b1"}}
    ]
  });
  box.dataset.ready = "true";
});
