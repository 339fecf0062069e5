// One status line kept at the bottom of a terminal (`sysmon run`, `sysmon serve`): fitted to
// the terminal's width, redrawn in place, and moved out of the way of every other line.

/** How many columns a line may take, less one (a full line wraps on some terminals). */
export function lineWidth(): number {
  let columns = 0;
  try {
    columns = Deno.consoleSize().columns;
  } catch {
    // not a terminal after all: the common width below
  }
  // A pseudo-terminal nobody sized reports 0 columns: assume the usual 80.
  return (columns > 1 ? columns : 80) - 1;
}

/** Columns `text` takes (code points; the lines here hold no wide or combining characters). */
export function columnsOf(text: string): number {
  return [...text].length;
}

/**
 * The first of `variants` (fullest first) whose parts, joined by " │ ", fit `width`; the last
 * one cut with "…" when none does.
 */
export function fitParts(variants: (string | null)[][], width: number): string {
  let line = "";
  for (const parts of variants) {
    line = parts.filter((p) => p !== null).join(" │ ");
    if (columnsOf(line) <= width) return line;
  }
  return cut(line, width);
}

/** `text` cut to `width` columns, ending in "…" when cut. */
export function cut(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width < 1 ? "" : chars.slice(0, width - 1).join("") + "…";
}

/** "1 sample", "2 samples" (digits only: scripts read these lines). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const encoder = new TextEncoder();

/** Writes all of `s` to stdout at once (the status line is drawn with synchronous writes). */
export function toStdout(s: string) {
  const bytes = encoder.encode(s);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

type ConsoleMethod = "log" | "info" | "warn" | "error" | "debug";
const METHODS: ConsoleMethod[] = ["log", "info", "warn", "error", "debug"];

/**
 * The status line on a terminal. `render` makes the line for a width; `show` redraws it (at the
 * terminal's current width: a resized window is followed), `print` writes other lines above it,
 * `end` leaves it where it is and moves to the next line.
 */
export class LiveLine {
  private render: ((width: number) => string) | null = null;
  private restore: (() => void) | null = null;

  constructor(
    private readonly write: (s: string) => void,
    private readonly width: () => number = lineWidth,
  ) {}

  /** Shows `render`'s line in place of the one shown. */
  show(render: (width: number) => string) {
    this.render = render;
    this.write(`\r\x1b[2K${render(this.width())}`);
  }

  /** Clears the status line, runs `print` (which writes whole lines), then redraws it. */
  print(print: () => void) {
    if (this.render === null) return print();
    this.write("\r\x1b[2K");
    try {
      print();
    } finally {
      this.write(this.render(this.width()));
    }
  }

  /**
   * Until `end`, console output (of any module) goes above the status line instead of being
   * appended to it.
   */
  holdConsole() {
    if (this.restore !== null) return;
    const saved = METHODS.map((m) => [m, console[m]] as const);
    for (const [m, original] of saved) {
      console[m] = (...args: unknown[]) => this.print(() => original.apply(console, args));
    }
    this.restore = () => {
      for (const [m, original] of saved) console[m] = original;
    };
  }

  /** Keeps the last status on screen, ends its line, and gives the console back. */
  end() {
    if (this.render !== null) this.write("\n");
    this.render = null;
    this.restore?.();
    this.restore = null;
  }
}
