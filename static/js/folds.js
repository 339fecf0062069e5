// @ts-check
// Sidebar sections folded away (views/fold.tsx): a heading's button folds the section around
// it; which ones are folded is kept in localStorage and applied to every section htmx brings
// in again.

const KEY = "sysmon.folded";

/** @returns {Set<string>} */
function folded() {
  try {
    return new Set(JSON.parse(localStorage.getItem(KEY) ?? "[]"));
  } catch (_err) {
    return new Set();
  }
}

/** @param {HTMLElement} button @param {boolean} fold */
function show(button, fold) {
  button.setAttribute("aria-expanded", fold ? "false" : "true");
  button.closest("section")?.classList.toggle("folded", fold);
}

/** Folds or opens the sections under `el` as the user left them. @param {Element} el */
export function applyFolds(el) {
  const set = folded();
  const buttons = [...el.querySelectorAll("button.fold[data-fold]")];
  if (el.matches("button.fold[data-fold]")) buttons.push(el);
  for (const b of buttons) {
    show(
      /** @type {HTMLElement} */ (b),
      set.has(/** @type {HTMLElement} */ (b).dataset.fold ?? ""),
    );
  }
}

document.addEventListener("click", (e) => {
  const b = /** @type {HTMLElement | null} */ (
    /** @type {Element} */ (e.target).closest?.("button.fold[data-fold]")
  );
  if (!b) return;
  const id = b.dataset.fold ?? "";
  const set = folded();
  const fold = !set.has(id);
  if (fold) set.add(id);
  else set.delete(id);
  try {
    localStorage.setItem(KEY, JSON.stringify([...set]));
  } catch (_err) {
    // storage disabled: folded until the next reload
  }
  show(b, fold);
});
