// @ts-check
// The charts built now, by figure element and by id (main.js also puts them on
// globalThis.sysmon for tests and debugging).

/** @typedef {import("./types.js").Built} Built */

/** @type {Map<Element, Built>} */
export const built = new Map();
/** @type {Map<string, Built>} */
export const byId = new Map();
