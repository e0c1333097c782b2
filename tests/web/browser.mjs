// Starts the app's server and a headless Debian Chromium driven by playwright-core, with a
// fresh profile, no background networking, SwiftShader WebGL, and a record of every request
// so a test can fail on any that leaves the page's origin.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export async function startServer(root = join(repo, 'build/web')) {
  const server = spawn(process.execPath, [join(repo, 'scripts/serve.mjs'), '0', root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      const match = /http:\/\/localhost:\d+\//.exec(chunk.toString());
      if (match) resolve(match[0]);
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url, stop: () => server.kill() };
}

// `extraArgs`: e.g. ['--enable-unsafe-webgpu'], which gives a SwiftShader WebGPU adapter
// (correct, far too slow for speed figures).
export async function launch({ extraArgs = [] } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'cls-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      ...extraArgs],
  });
  const requests = [];
  context.on('request', (request) => requests.push(request.url()));
  return {
    context,
    requests,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

// Adds the test-only helpers (web/test_api.js) to the page's window.cls.
export async function installTestApi(page) {
  await page.evaluate(() => import('./test_api.js').then((api) => api.install()));
}

// `wait: false` opens the page without waiting for the app (for a blank page, say).
export async function openApp(context, url, { wait = true } = {}) {
  const page = context.pages()[0] ?? (await context.newPage());
  const messages = [];
  page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
  await page.goto(url);
  if (wait) {
    await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
    await installTestApi(page);
  }
  return { page, messages };
}

// What a test file's before() opens: the server, a fresh Chromium and the app's page with the
// test API; close() ends both. Refuses at once, naming the build step, when `requires` (a
// file of the build) is missing.
export async function startApp({ requires = 'build/web/cls_studio.wasm' } = {}) {
  assert.ok(existsSync(join(repo, requires)), 'build the app first: scripts/build_web.sh');
  const server = await startServer();
  let browser;
  try {
    browser = await launch();
    const { page, messages } = await openApp(browser.context, server.url);
    const close = async () => {
      await browser.close();
      server.stop();
    };
    return { server, browser, page, messages, close };
  } catch (error) {
    await browser?.close();
    server.stop();
    throw error;
  }
}
