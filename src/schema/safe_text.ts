// Process names and command lines are untrusted text: anyone can name a process
// "\x1b[2J<script>" or put a newline in it. Files store it raw (it is data); what reaches a
// terminal or a line-oriented file goes through these.

/**
 * Characters that move the cursor, start escape sequences, end lines or reorder text:
 * C0 controls, DEL, C1 controls (U+009B is a one-character CSI), the Unicode line and
 * paragraph separators and the bidirectional overrides and isolates.
 */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** UNSAFE less the C0 controls, which JSON.stringify escapes itself inside strings. */
const UNSAFE_IN_JSON = /[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Text for a terminal: unsafe characters shown as escapes (`\n`, `\x1b`, `\u202e`). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * JSON text whose strings no reader can mistake for several lines or for terminal escapes:
 * JSON.stringify escapes C0 controls; DEL, C1 controls, line separators and bidi controls
 * are escaped here too (`\u2028` is a valid JSON escape: the text parses back to the same
 * value). Without `indent` it is one line.
 */
export function jsonLine(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    UNSAFE_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
