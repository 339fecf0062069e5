// Messages shown on the page name the page's controls, not the command line's flags: the
// tracer's refusals are written for `sysmon run` ("choose another --output") and reach the
// page through Start and the status line.

const WORDS: [RegExp, string][] = [
  [/\brun with --utc\b/g, "tick UTC timestamps"],
  [/\brun without --utc\b/g, "untick UTC timestamps"],
  [/(^|[\s(])--output\b/g, "$1Output file"],
  [/(^|[\s(])-o\b/g, "$1Output file"],
  [/(^|[\s(])--sample-interval\b/g, "$1Sampling (s)"],
  [/(^|[\s(])--write-interval\b/g, "$1Write interval (s)"],
  [/(^|[\s(])--no-gpu\b/g, "$1Enable GPU"],
  [/(^|[\s(])--no-docker\b/g, "$1Enable Docker"],
  [/(^|[\s(])--utc\b/g, "$1UTC timestamps"],
];

/** `text` with the command line's flags replaced by the names of the page's controls. */
export function pageWords(text: string): string {
  let out = text;
  for (const [re, to] of WORDS) out = out.replace(re, to);
  return out;
}
