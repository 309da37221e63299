/**
 * Debian's Chromium, headless, driven by playwright-core, for the page tests (Swagger UI, the
 * console). `npm test` installs it and passes its path (infra/local/chromium.ts). The flags keep it
 * from reaching out to the network, which this machine does not have.
 */
import { chromium, type Browser } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
