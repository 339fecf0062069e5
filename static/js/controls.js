// @ts-check
// The Time & display form: choices (lists, check boxes) apply at once, typed fields with Enter
// or Apply (the form's submit; the newest request replaces one in flight). Whatever the user
// typed and did not apply survives the view being replaced under it (an applied choice, a
// poll, a tab): htmx swaps the whole view, this form included.

/** @type {any} */
const htmx = /** @type {any} */ (globalThis).htmx;

const form = () => /** @type {HTMLFormElement | null} */ (document.getElementById("controls"));

document.addEventListener("change", (e) => {
  const el = /** @type {HTMLInputElement} */ (e.target);
  const f = form();
  if (!f || el.form !== f) return;
  if (el.tagName === "SELECT" || el.type === "checkbox" || el.type === "radio") f.requestSubmit();
});

/** What the last request of the form sent, by field name. @type {Map<string, string> | null} */
let sent = null;

htmx.on("htmx:beforeRequest", (/** @type {CustomEvent} */ e) => {
  const f = form();
  if (f && e.detail.elt === f) {
    sent = new Map([...new FormData(f)].map(([k, v]) => [k, String(v)]));
  } else if (e.detail.target?.id === "view") sent = null;
});

/** A typed field (choices apply at once, so they are never left edited). @param {Element} el */
function typed(el) {
  const i = /** @type {HTMLInputElement} */ (el);
  return el.tagName === "INPUT" && !["hidden", "submit", "checkbox", "radio"].includes(i.type);
}

/** Typed fields edited and not sent as they are now, by name. @type {Map<string, string>} */
let kept = new Map();

htmx.on("htmx:beforeSwap", (/** @type {CustomEvent} */ e) => {
  kept = new Map();
  const f = form();
  if (!f || !e.detail.target?.contains(f)) return;
  for (const el of f.elements) {
    const i = /** @type {HTMLInputElement} */ (el);
    if (!i.name || !typed(el) || i.value === i.defaultValue) continue;
    if (sent?.get(i.name) === i.value) continue; // the server answers for what was sent
    kept.set(i.name, i.value);
  }
});

htmx.on("htmx:afterSwap", () => {
  const f = form();
  if (!f || kept.size === 0) return;
  for (const [name, v] of kept) {
    const el = f.elements.namedItem(name);
    if (el instanceof HTMLInputElement) el.value = v;
  }
  kept = new Map();
});
