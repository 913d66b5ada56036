import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium: `npx playwright install` cannot download a browser here. */
export const CHROMIUM = '/usr/bin/chromium';

export const hasChromium = () => existsSync(CHROMIUM);

/** A real headless Chromium, as DESIGN.md says. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where tests leave screenshots for a person to look at: tests/output/<name>.png. */
export function screenshotPath(name: string): string {
  const dir = resolve(__dirname, '..', 'output');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}
