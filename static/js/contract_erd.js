// The contract's ERD (templates/contracts/erd.html): Cytoscape over the graph's JSON.
document.addEventListener("DOMContentLoaded", function () {
  if (!document.getElementById("erd-data")) {
    return;  // no graph on this page
  }
  var data = JSON.parse(document.getElementById("erd-data").textContent);
  var elements = [];
  data.nodes.forEach(function (n) {
    elements.push({data: {id: n.id, url: n.url,
      label: n.id + "\n" + n.attributes + " attributes · " + n.mandatory + " mandatory"}});
  });
  data.edges.forEach(function (e) {
    elements.push({data: {id: e.id, source: e.source, target: e.target, label: e.label}});
  });
  var cy = cytoscape({
    container: document.getElementById("erd"),
    elements: elements,
    wheelSensitivity: 0.3,
    style: [
      {selector: "node", style: {
        "shape": "round-rectangle", "background-color": "#ffffff", "border-color": "#1f5fa8",
        "border-width": 2, "label": "data(label)", "text-wrap": "wrap", "text-valign": "center",
        "text-halign": "center", "font-size": 13, "color": "#12263f", "width": 210, "height": 60,
        "font-family": "system-ui, sans-serif"}},
      {selector: "node:selected", style: {"background-color": "#e6eef8"}},
      {selector: "edge", style: {
        "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
        "line-color": "#8a96a3", "target-arrow-color": "#8a96a3", "label": "data(label)",
        "font-size": 10, "color": "#5b6776", "text-rotation": "autorotate",
        "text-background-color": "#f6f8fa", "text-background-opacity": 1, "text-background-padding": 2}}
    ],
    maxZoom: 1.5,
    layout: {name: "preset"}
  });
  // Referenced entities (those with no foreign key of their own) on top, the rest below.
  var roots = cy.nodes().filter(function (node) { return node.outgoers("edge").length === 0; });
  cy.layout({name: "breadthfirst", directed: false, roots: roots.length ? roots : undefined,
             spacingFactor: 1.15, padding: 40, avoidOverlap: true}).run();
  cy.on("tap", "node", function (evt) { var url = evt.target.data("url"); if (url) { window.location = url; } });
  window.contractErd = cy;
  document.getElementById("erd").dataset.ready = "true";
});
