// What the command line says about a first word that names no command.
import { terminalSafe } from "../schema/safe_text.ts";

/**
 * The message for a first word that is none of `commands` (nor `help`), or null when it is one.
 * `run` is the default command but takes no arguments, so such a word is never run's.
 */
export function unknownCommand(word: string, commands: string[]): string | null {
  if (word === "help" || commands.includes(word)) return null;
  const shown = terminalSafe(word);
  const lines = [`sysmon: unknown command '${shown}'`];
  const near = commands.filter((c) => editDistance(c, word) <= 2);
  if (near.length) lines.push(`  did you mean ${near.map((c) => `'${c}'`).join(" or ")}?`);
  if (/[./]/.test(word)) {
    lines.push(
      `  to show that trace: sysmon serve ${shown}`,
      `  to trace into it:   sysmon run --output ${shown}`,
    );
  }
  const listed = commands.map((c) => c === "run" ? "run (the default)" : c).join(", ");
  lines.push(`  commands: ${listed}; see 'sysmon --help'`);
  return lines.join("\n");
}

/** Levenshtein distance: edits that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, swap));
    }
    prev = row;
  }
  return prev[b.length]!;
}
