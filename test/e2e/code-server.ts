// Runs code-server for the e2e test: installs a .vsix into a private extensions folder, starts the server in its
// own session (process group) on a free loopback port, waits for /healthz, and stops the whole group. The group
// matters: code-server's children (extension host, file watcher, pty host) outlive it waiting for a reconnect.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { E2eEnv } from './e2e-env';

/** User settings that keep the workbench quiet and predictable (design/e2e.md). */
export const QUIET_USER_SETTINGS = {
  'chat.disableAIFeatures': true,
  'workbench.startupEditor': 'none',
  'debug.openDebug': 'openOnSessionStart',
  'files.autoSave': 'off',
  'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export interface CodeServerDirs {
  /** --user-data-dir; user settings go in User/settings.json under it. */
  userDataDir: string;
  /** --extensions-dir */
  extensionsDir: string;
  /** XDG_CONFIG_HOME/XDG_DATA_HOME for the server, so it writes nothing under $HOME. */
  homeDir: string;
  /** Where the server's stdout/stderr go. */
  logFile: string;
}

export function makeCodeServerDirs(root: string): CodeServerDirs {
  const dirs: CodeServerDirs = {
    userDataDir: join(root, 'user-data'),
    extensionsDir: join(root, 'extensions'),
    homeDir: join(root, 'home'),
    logFile: join(root, 'code-server.log'),
  };
  mkdirSync(join(dirs.userDataDir, 'User'), { recursive: true });
  mkdirSync(dirs.extensionsDir, { recursive: true });
  mkdirSync(dirs.homeDir, { recursive: true });
  writeFileSync(join(dirs.userDataDir, 'User', 'settings.json'), JSON.stringify(QUIET_USER_SETTINGS, null, 2));
  return dirs;
}

function serverEnv(env: E2eEnv, dirs: CodeServerDirs): NodeJS.ProcessEnv {
  const nodeBin = join(env.node, '..');
  return {
    ...process.env,
    PATH: `${nodeBin}:${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: join(dirs.homeDir, 'config'),
    XDG_DATA_HOME: join(dirs.homeDir, 'data'),
    // Never let the server or the extension host think they run under a test runner or inherit an inspector.
    NODE_OPTIONS: '',
    VSCODE_IPC_HOOK_CLI: '',
  };
}

/** `code-server --install-extension X.vsix`; returns its output, throws with it when the install fails. */
export function installExtension(env: E2eEnv, dirs: CodeServerDirs, vsix: string): string {
  const result = spawnSync(
    env.node,
    [env.codeServerEntry, '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir, '--install-extension', vsix],
    { env: serverEnv(env, dirs), encoding: 'utf8', timeout: 120_000 },
  );
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error) throw new Error(`code-server --install-extension could not run: ${result.error.message}\n${output}`);
  if (result.status !== 0 || !/successfully installed/i.test(output)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${result.status}):\n${output}`);
  }
  return output;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export class CodeServer {
  private child: ChildProcess | undefined;
  private exitHook: (() => void) | undefined;

  private constructor(readonly url: string, readonly logFile: string) {}

  /** Starts code-server on 127.0.0.1 with `workspace` open and waits until /healthz answers. */
  static async start(env: E2eEnv, dirs: CodeServerDirs, workspace: string, timeoutMs = 60_000): Promise<CodeServer> {
    const port = await freePort();
    const server = new CodeServer(`http://127.0.0.1:${port}/`, dirs.logFile);
    const log = createWriteStream(dirs.logFile);
    // detached: Node calls setsid(), so the server leads a new session and process group whose id is its pid;
    // stop() signals that whole group.
    const child = spawn(
      env.node,
      [
        env.codeServerEntry,
        '--auth', 'none',
        '--bind-addr', `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--reconnection-grace-time', '10',
        '--user-data-dir', dirs.userDataDir,
        '--extensions-dir', dirs.extensionsDir,
        workspace,
      ],
      { env: serverEnv(env, dirs), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.child = child;
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    // If the test process dies without reaching stop(), still take the server down with it.
    server.exitHook = () => server.killGroup('SIGKILL');
    process.once('exit', server.exitHook);

    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before answering; see ${dirs.logFile}`);
      }
      try {
        const response = await fetch(`${server.url}healthz`);
        if (response.ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await server.stop();
    throw new Error(`code-server did not answer ${server.url}healthz within ${timeoutMs} ms; see ${dirs.logFile}`);
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  }

  private groupAlive(): boolean {
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM to the process group, SIGKILL to whatever is left after a grace period. Safe to call twice. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.child) return;
    this.killGroup('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (this.groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (this.groupAlive()) this.killGroup('SIGKILL');
    if (this.exitHook) process.removeListener('exit', this.exitHook);
    this.child = undefined;
  }
}
