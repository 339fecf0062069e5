// @ts-check
// The keyboard: the skip links, the tabs as the WAI-ARIA tabs pattern has them (← → Home End
// move between tabs, Enter or Space chooses one), and focus kept where it was when htmx
// replaces the element holding it (a tab just chosen, a range, a field, the panel).

/** @type {any} */
const htmx = /** @type {any} */ (globalThis).htmx;

const selectedTab = () => /** @type {HTMLElement | null} */ (document.querySelector(
  '[role="tab"][aria-selected="true"]',
));

/**
 * Moves focus to `tab` and makes it the tablist's one Tab stop.
 * @param {HTMLElement} tab @param {boolean} [preventScroll]
 */
function focusTab(tab, preventScroll = false) {
  for (const t of tab.closest('[role="tablist"]')?.querySelectorAll('[role="tab"]') ?? []) {
    t.setAttribute("tabindex", t === tab ? "0" : "-1");
  }
  tab.focus({ preventScroll });
}

document.addEventListener("keydown", (e) => {
  const tab = /** @type {HTMLElement} */ (e.target).closest?.('[role="tab"]');
  if (!tab || e.altKey || e.ctrlKey || e.metaKey) return;
  const tabs = /** @type {HTMLElement[]} */ ([
    ...(tab.closest('[role="tablist"]')?.querySelectorAll('[role="tab"]') ?? []),
  ]);
  const i = tabs.indexOf(/** @type {HTMLElement} */ (tab));
  const to = e.key === "ArrowRight"
    ? tabs[(i + 1) % tabs.length]
    : e.key === "ArrowLeft"
    ? tabs[(i - 1 + tabs.length) % tabs.length]
    : e.key === "Home"
    ? tabs[0]
    : e.key === "End"
    ? tabs[tabs.length - 1]
    : null;
  if (to) {
    e.preventDefault();
    focusTab(to);
  } else if (e.key === " ") {
    e.preventDefault(); // Space chooses, as Enter does on a link
    /** @type {HTMLElement} */ (tab).click();
  }
});

document.addEventListener("click", (e) => {
  const skip = /** @type {HTMLElement} */ (e.target).closest?.("a.skip");
  if (!skip) return;
  const to = /** @type {HTMLElement} */ (skip).dataset.skip === "tabs"
    ? selectedTab()
    : /** @type {HTMLElement | null} */ (document.querySelector("#tracing button.fold"));
  if (!to) return;
  e.preventDefault();
  to.focus();
});

/**
 * How to find the focused element again after its part of the page is replaced: the selected
 * tab for a tab, else its id, else its name in its form.
 * @param {Element | null} el
 */
function focusKey(el) {
  if (!el || el === document.body) return null;
  if (el.getAttribute("role") === "tab") return { tab: true, sel: "" };
  if (el.id) return { tab: false, sel: `#${CSS.escape(el.id)}` };
  const name = el.getAttribute("name");
  const form = /** @type {HTMLInputElement} */ (el).form;
  if (name && form?.id) {
    return { tab: false, sel: `#${CSS.escape(form.id)} [name="${CSS.escape(name)}"]` };
  }
  return null;
}

/** @type {{ tab: boolean, sel: string, start: number | null, end: number | null } | null} */
let lost = null;

htmx.on("htmx:beforeSwap", (/** @type {CustomEvent} */ e) => {
  const target = /** @type {Element | null} */ (e.detail.target);
  const active = document.activeElement;
  lost = null;
  if (!target || !active || !target.contains(active)) return;
  const key = focusKey(active);
  if (!key) return;
  const input = /** @type {HTMLInputElement} */ (active);
  let start = null, end = null;
  try {
    start = input.selectionStart ?? null;
    end = input.selectionEnd ?? null;
  } catch (_err) {
    // an input type without a selection (number, date)
  }
  lost = { ...key, start, end };
});

htmx.on("htmx:afterSwap", () => {
  const l = lost;
  lost = null;
  if (!l || (document.activeElement && document.activeElement !== document.body)) return;
  const el = /** @type {HTMLInputElement | null} */ (
    l.tab ? selectedTab() : document.querySelector(l.sel)
  );
  if (!el) return;
  if (l.tab) focusTab(el, true);
  else el.focus({ preventScroll: true }); // the page stays where the user has it
  if (l.start !== null && l.end !== null) {
    try {
      el.setSelectionRange(l.start, l.end);
    } catch (_err) {
      // the new element has no selection
    }
  }
});
