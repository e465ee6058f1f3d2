// Real VS Code for the end-to-end tests: code-server 4.100.3 (VS Code 1.100, installed by
// scripts/install-code-server.sh into .e2e/) driven through Debian's Chromium with playwright-core.
// Everything listens on 127.0.0.1; nothing here reaches any other host.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '../../..');
export const codeServerEntry = path.join(repoRoot, '.e2e/code-server/node_modules/code-server/out/node/entry.js');
export const vsixPath = path.join(repoRoot, 'nabla.vsix');
export const chromiumPath = process.env.NABLA_E2E_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots for the README. */
export const imagesDir = path.join(repoRoot, 'docs/images');
/** Screenshots of failed tests and the code-server logs (git-ignored). */
export const resultsDir = path.join(repoRoot, 'test-results/e2e');

export type ThemeKind = 'light' | 'dark';
export const themes: Record<ThemeKind, string> = {
  light: 'Default Light Modern',
  dark: 'Default Dark Modern',
};

export interface Session {
  theme: ThemeKind;
  root: string;
  workspace: string;
  port: number;
  server: ChildProcess;
  serverLog: string;
  browser: Browser;
  page: Page;
}

// Process groups of the code-servers still running. If mocha dies without running its `after`
// hooks (an uncaught error, Ctrl+C, a closed pipe), they are ended on the way out.
const liveGroups = new Set<number>();
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}
process.once('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(0));
    request.setTimeout(2000, () => request.destroy());
  });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function codeServerArgs(root: string): string[] {
  return [
    codeServerEntry,
    '--config', path.join(root, 'config.yaml'),
    '--user-data-dir', path.join(root, 'user-data'),
    '--extensions-dir', path.join(root, 'extensions'),
  ];
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * A fresh code-server with the packaged extension installed, the given colour theme, and a copy
 * of examples/ as its workspace, plus a Chromium page showing it with the explorer loaded.
 * `settings`: user settings added to the ones every session has; `name`: the session's name in logs.
 */
export async function startSession(theme: ThemeKind, options: { settings?: Record<string, unknown>; name?: string } = {}): Promise<Session> {
  for (const [file, hint] of [
    [codeServerEntry, 'run scripts/install-code-server.sh (npm run test:e2e does)'],
    [vsixPath, 'run npm run package (npm run test:e2e does)'],
    [chromiumPath, 'apt-get install chromium'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: ${hint}`);
  }
  fs.mkdirSync(resultsDir, { recursive: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `nabla-e2e-${theme}-`));
  const workspace = path.join(root, 'examples');
  fs.cpSync(path.join(repoRoot, 'examples'), workspace, { recursive: true });
  fs.writeFileSync(path.join(root, 'config.yaml'), 'auth: none\n');
  fs.mkdirSync(path.join(root, 'user-data/User'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'user-data/User/settings.json'),
    JSON.stringify(
      {
        'workbench.colorTheme': themes[theme],
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'update.mode': 'none',
        'chat.commandCenter.enabled': false,
        'window.commandCenter': false,
        // Only Nabla's diagnostics: the built-in TypeScript service would add its own
        // ("Cannot find module '@tensorflow/tfjs'") to the squiggles and the Problems count.
        'typescript.validate.enable': false,
        'javascript.validate.enable': false,
        // Every file opened from the explorer stays open (a preview tab would be replaced, and
        // closing a document clears its diagnostics).
        'workbench.editor.enablePreview': false,
        'editor.minimap.enabled': false,
        'editor.fontSize': 14,
        'editor.hover.delay': 200,
        'git.enabled': false,
        ...options.settings,
      },
      null,
      2,
    ),
  );

  // Install the .vsix exactly as a user would.
  const install = spawnSync(process.execPath, [...codeServerArgs(root), '--install-extension', vsixPath], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const installed = path.join(root, 'extensions');
  const extensionDirs = fs.existsSync(installed) ? fs.readdirSync(installed).filter((d) => d.startsWith('nabla-dev.nabla-')) : [];
  if (install.status !== 0 || extensionDirs.length !== 1) {
    throw new Error(`installing ${vsixPath} failed (exit ${install.status}):\n${install.stdout}\n${install.stderr}`);
  }

  const port = await freePort();
  const serverLog = path.join(resultsDir, `code-server-${options.name ?? theme}.log`);
  const logFd = fs.openSync(serverLog, 'w');
  // detached: code-server gets its own process group, so `after` can end it with all its children
  // (extension host, Nabla's language server, file watcher).
  const server = spawn(
    process.execPath,
    [
      ...codeServerArgs(root),
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    { detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, HOME: root, XDG_CONFIG_HOME: path.join(root, 'xdg'), XDG_DATA_HOME: path.join(root, 'xdg-data') } },
  );
  fs.closeSync(logFd);
  if (server.pid !== undefined) liveGroups.add(server.pid);
  const session: Partial<Session> = { theme, root, workspace, port, server, serverLog };
  try {
    await waitFor('code-server to answer /healthz', 60_000, async () => {
      if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode}:\n${tail(serverLog)}`);
      return (await httpStatus(`http://127.0.0.1:${port}/healthz`)) === 200 ? true : undefined;
    });

    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      timeout: 60_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-quic',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    session.browser = browser;
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
    // No request may leave the machine: anything but code-server itself is refused.
    await context.route(
      (url) => url.hostname !== '127.0.0.1',
      (route) => route.abort(),
    );
    const page = await context.newPage();
    session.page = page;
    page.setDefaultTimeout(30_000);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 90_000 });
    // The workbench paints with a default theme first, then switches to the configured one.
    await page.locator(`.monaco-workbench.${theme === 'dark' ? 'vs-dark' : 'vs'}`).waitFor({ timeout: 60_000 });
    return session as Session;
  } catch (error) {
    await stopSession(session);
    throw error;
  }
}

export async function stopSession(session: Partial<Session> | undefined): Promise<void> {
  if (!session) return;
  try {
    await session.browser?.close();
  } catch {
    // Already gone.
  }
  const server = session.server;
  if (server?.pid !== undefined) {
    const pid = server.pid;
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      killGroup(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
    }
    // Whatever is left of the group (the extension host, Nabla's server, the file watcher).
    killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
  }
  if (session.root && !process.env.NABLA_E2E_KEEP) fs.rmSync(session.root, { recursive: true, force: true });
}
