// Assembles a NASM source with `nasm -f bin` (and a listing for source breakpoints) as a VS Code task, so its output lands in a terminal and its errors
// in the Problems view (through the `$nasm` problem matcher), and waits for the task's exit code.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { nasmArguments } from './nasm-build-plan';

export async function runNasmTask(
  nasmPath: string,
  sourcePath: string,
  imagePath: string,
  folder: vscode.WorkspaceFolder | undefined,
  includeDirs: string[],
): Promise<number | undefined> {
  const task = new vscode.Task(
    { type: 'ringside-nasm', source: sourcePath },
    folder ?? vscode.TaskScope.Workspace,
    `nasm ${path.basename(sourcePath)}`,
    'ringside',
    new vscode.ProcessExecution(nasmPath, nasmArguments(sourcePath, imagePath, includeDirs), { cwd: path.dirname(sourcePath) }),
    '$nasm',
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, clear: true, showReuseMessage: false };
  const execution = await vscode.tasks.executeTask(task);
  return new Promise((resolve) => {
    const listener = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution !== execution) return;
      listener.dispose();
      resolve(e.exitCode);
    });
  });
}
