// What the browser tests share: Debian's Chromium (never a downloaded browser) driven headless
// by playwright-core, and the folder their screenshots go to.
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = new URL("../test-artifacts/", import.meta.url).pathname;

/** Whether Chromium is installed; when not, says that `test` is skipped and how to install it. */
export function chromiumFor(test: string): boolean {
  try {
    if (Deno.statSync(CHROMIUM).isFile) return true;
  } catch {
    // absent
  }
  console.warn(`${test}: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);
  return false;
}

/** Chromium, headless, with no sandbox, GPU or background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
