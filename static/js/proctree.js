// @ts-check
// The process tree graph (drawn by the server as SVG): a clicked node's details.

/** @param {Element} node */
export function showNode(node) {
  const box = document.getElementById("pt-detail");
  if (!box) return;
  const d = /** @type {HTMLElement} */ (node).dataset;
  for (const n of document.querySelectorAll(".pt-node.selected")) n.classList.remove("selected");
  node.classList.add("selected");
  const lines = d.error ? [`PID ${d.pid}: cannot be read (${d.error})`] : [
    `${d.name} (PID ${d.pid})`,
    `PPID ${d.ppid} • threads ${d.threads}`,
    d.cmd ? `Command line: ${d.cmd}` : "No command line (a kernel thread, or not readable)",
  ];
  box.replaceChildren(...lines.map((t) => {
    const p = document.createElement("p");
    p.textContent = t;
    return p;
  }));
}
