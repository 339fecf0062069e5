// The page around a view: head (styles, theme applied before first paint, htmx, our client),
// header with the theme switch, and the list of time zones the zone field suggests.
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, and hono/jsx
// would write `key` into the HTML.
import type { PageModel } from "./model.ts";
import { LiveSidebar } from "./sidebar.tsx";
import { View } from "./view.tsx";

/**
 * htmx settings that keep it within the page's Content-Security-Policy (no eval, no inline
 * styles). Script tags stay allowed: htmx would otherwise strip the charts' JSON data blocks,
 * and the CSP (script-src 'self') already refuses any inline script a fragment could hold.
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  // Not "style": copying a style attribute onto new content is an inline style, which the
  // CSP refuses (and the page sets none).
  attributesToSettle: ["class", "width", "height"],
  // A refused /ui/* form answers its status (400, 404, 409, 413, 422; 500 for a write that
  // failed) with the section and its message: swap those too.
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "40[049]", swap: true, error: false },
    { code: "413", swap: true, error: false },
    { code: "422", swap: true, error: false },
    { code: "500", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ],
});

export function Page({ m, zones }: { m: PageModel; zones: string[] }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>System Resource Monitor</title>
        <link rel="icon" href="data:," />
        <script src="/static/theme.js"></script>
        <link rel="stylesheet" href="/vendor/uplot.css" />
        <link rel="stylesheet" href="/static/app.css" />
        <link rel="modulepreload" href="/vendor/uplot.js" />
        <script src="/vendor/htmx.js" defer></script>
        <script type="module" src="/static/js/main.js"></script>
      </head>
      <body>
        <nav class="skip-links" aria-label="Skip links">
          <a class="skip" href="#main" data-skip="tabs">Skip to the tabs</a>
          {m.side
            ? <a class="skip" href="#tracing" data-skip="live">Skip to Live tracing</a>
            : null}
        </nav>
        <header class="top">
          <h1>System Resource Monitor</h1>
          <label class="theme">
            Theme{" "}
            <select id="theme">
              <option value="system">Follow the system</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
        </header>
        <div id="flash" class="flash" role="alert" hidden />
        <div class="layout">
          <View m={m} />
          {m.side ? <LiveSidebar side={m.side} /> : null}
        </div>
        <datalist id="tz-zones">
          <option value="Local" />
          <option value="UTC" />
          {zones.map((z) => <option value={z} />)}
        </datalist>
      </body>
    </html>
  );
}
