/** Recursive copy of a directory tree (files and directories only). */
export function copySync(src: string, dest: string) {
  Deno.mkdirSync(dest, { recursive: true });
  for (const e of Deno.readDirSync(src)) {
    const s = `${src}/${e.name}`;
    const d = `${dest}/${e.name}`;
    if (e.isDirectory) copySync(s, d);
    else if (e.isFile) Deno.copyFileSync(s, d);
  }
}
