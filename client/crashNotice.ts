// Says so when the language server crashed and vscode-languageclient restarts it (it does, up to
// 4 times in 3 minutes, then gives up with its own message): a line in the "Nabla" output and a
// notification, so diagnostics that vanish for a moment are explained. Restarts the user asked for
// ("Nabla: Restart Server") are not crashes.
import * as vscode from 'vscode';
import { State, type BaseLanguageClient as LanguageClient } from 'vscode-languageclient';

export interface CrashNotice extends vscode.Disposable {
  /** Call before a restart the user asked for, so it is not reported as a crash. */
  expectRestart(): void;
}

export function watchForCrashes(client: LanguageClient, outputChannel: vscode.LogOutputChannel): CrashNotice {
  let running = false;
  let expected = false;
  const crashes: number[] = [];
  const listener = client.onDidChangeState(({ oldState, newState }) => {
    if (newState === State.Running) {
      running = true;
      expected = false;
      return;
    }
    if (oldState === State.Stopped && newState === State.Starting && running && !expected) {
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && now - crashes[0] > 3 * 60_000) crashes.shift();
      const message = `The Nabla language server stopped unexpectedly and is being restarted (${crashes.length} ${crashes.length === 1 ? 'time' : 'times'} in the last 3 minutes). Diagnostics come back when it is running again.`;
      outputChannel.warn(message);
      const show = 'Show Output';
      void vscode.window.showWarningMessage(`Nabla: ${message}`, show).then((choice) => {
        if (choice === show) outputChannel.show(true);
      });
    }
  });
  return {
    expectRestart: () => void (expected = true),
    dispose: () => listener.dispose(),
  };
}
