// The Mart ERD of the catalog (templates/catalog/erd.html): Cytoscape over the graph's JSON.
document.addEventListener("DOMContentLoaded", function () {
  if (!document.getElementById("erd-data")) {
    return;  // no graph on this page
  }
  const graph = JSON.parse(document.getElementById("erd-data").textContent);
  const palette = {customer: "#1f5fa8", campaign: "#b35c00", events: "#2e7d32", reference: "#6a4c93", unassigned: "#7a8794"};
  const base = document.getElementById("erd").dataset.tablesUrl;
  const cy = cytoscape({
    container: document.getElementById("erd"),
    elements: graph.nodes.concat(graph.edges),
    style: [
      {selector: "node", style: {"shape": "round-rectangle", "background-color": (n) => palette[n.data("area")] || "#455a64",
        "label": (n) => n.data("label") + "\n" + n.data("columns") + " columns", "text-wrap": "wrap", "color": "#fff",
        "text-valign": "center", "font-size": 11, "width": "label", "height": "label", "padding": "10px"}},
      {selector: "node[kind = 'view']", style: {"border-width": 2, "border-style": "dashed", "border-color": "#222"}},
      {selector: "edge", style: {"curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
        "line-color": "#9aa4b1", "target-arrow-color": "#9aa4b1", "label": "data(label)", "font-size": 9,
        "text-background-color": "#fff", "text-background-opacity": 1, "color": "#4b5866"}}
    ],
    layout: {name: graph.nodes.length > 60 ? "grid" : "cose", animate: false, padding: 20, nodeRepulsion: 9000, idealEdgeLength: 120}
  });
  cy.on("tap", "node", (evt) => { window.location = base + evt.target.id().slice(1) + "/"; });
  document.getElementById("erd").dataset.ready = "true";
});
