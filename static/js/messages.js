// @ts-check
// Messages for the user: a failed request's error text, shown at the top of the page.

/** The error a response carries (its JSON `error`, or its text). @param {Response | XMLHttpRequest} r */
export async function errorText(r) {
  const text = r instanceof Response ? await r.text() : r.responseText;
  try {
    return JSON.parse(text).error ?? text;
  } catch (_err) {
    return text.slice(0, 300) || `HTTP ${r.status}`;
  }
}

/** Shows a message at the top of the page for a few seconds. @param {string} text */
export function flash(text) {
  const el = document.getElementById("flash");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(Number(el.dataset.timer));
  el.dataset.timer = String(setTimeout(() => (el.hidden = true), 8000));
}
