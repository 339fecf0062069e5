// @ts-check
// The shapes the client modules share, as JSDoc types (nothing here runs; the modules refer to
// them with import("./types.js"), which the browser never fetches).

/**
 * @typedef {{ label: string, i: number, href?: string, hx?: string, trace?: number }} SeriesRef
 * @typedef {{ id: string, title: string, unit: string,
 *   kind: "line"|"heatmap"|"bars"|"spark"|"proclines",
 *   block: number, series: SeriesRef[], y: [number, number] | null,
 *   bars: { labels: string[], values: (number|null)[], traces?: number[] } | null }} ChartConfig
 * @typedef {{ t0: number, dt: number[], s: (number|null)[][], rows: number, reduced: boolean,
 *   gap?: number | null }} RawBlock
 * @typedef {{ t: number[], s: (number|null)[][], gap: number | null }} Block
 * @typedef {{ id: string, kind: string, u: any, canvas: HTMLCanvasElement | null,
 *   destroy: () => void, resize: () => void, update?: () => void,
 *   setBars?: (bars: NonNullable<ChartConfig["bars"]>) => void,
 *   date?: () => string, stats?: () => (import("./stats.js").Stats | null)[] }} Built
 * @typedef {{ id: string, name: string, at: number, kind: string }} TraceEvent
 * @typedef {{ drawn: number, labels: string[], hidden: number,
 *   boxes: { x: number, y: number, w: number, h: number }[],
 *   plot: { left: number, top: number, width: number, height: number } | null }} MarkerInfo
 */

export {};
