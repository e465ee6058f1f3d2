// All the work for one file, from disk to findings. Self-contained (plain data in, plain data
// out, no printing) so it can move into a worker thread unchanged.
import * as fs from 'node:fs';
import { languageForPath, lintText, looksBinary, type Finding, type Notice } from '../engine';

export interface LintFileOptions {
  select?: string[];
  ignore?: string[];
  /** In bytes; larger files are skipped before they are read. */
  maxFileSize: number;
}

export interface FileNotice {
  kind: Notice['kind'] | 'encoding';
  message: string;
}

export interface FileResult {
  findings: Finding[];
  notices: FileNotice[];
  /** False when the file was skipped (binary, too large) or could not be read. */
  checked: boolean;
  /** Why the file could not be read (`permission denied`): an error for the user, and exit code 2. */
  error?: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false });

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a folder';
  return error instanceof Error ? error.message : String(error);
}

export async function lintFile(filePath: string, options: LintFileOptions): Promise<FileResult> {
  const language = languageForPath(filePath);
  if (language === undefined) {
    return { findings: [], notices: [{ kind: 'skipped', message: 'skipped: not a Python, TypeScript or JavaScript file' }], checked: false };
  }

  let buffer: Buffer;
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(filePath, 'r');
    // Size from the open handle, so a huge file is never read into memory.
    const { size } = await handle.stat();
    if (size > options.maxFileSize) {
      return {
        findings: [],
        notices: [{ kind: 'skipped', message: `skipped: the file has ${size} bytes, over the limit of ${options.maxFileSize} (--max-file-size)` }],
        checked: false,
      };
    }
    buffer = await handle.readFile();
  } catch (error) {
    return { findings: [], notices: [], checked: false, error: describeError(error) };
  } finally {
    await handle?.close().catch(() => undefined);
  }

  const notices: FileNotice[] = [];
  let text: string;
  try {
    text = strictUtf8.decode(buffer);
  } catch {
    text = lenientUtf8.decode(buffer);
    // A binary file is skipped by the engine with its own notice; do not warn twice.
    if (!looksBinary(text)) notices.push({ kind: 'encoding', message: 'invalid UTF-8 replaced' });
  }

  try {
    const outcome = lintText(text, { language, select: options.select, ignore: options.ignore, maxFileSize: options.maxFileSize });
    notices.push(...outcome.notices);
    const skipped = outcome.notices.some((n) => n.kind === 'skipped');
    return { findings: outcome.findings, notices, checked: !skipped };
  } catch (error) {
    // lintText promises not to throw; if it ever does, one file must not end the run.
    const detail = error instanceof Error ? error.message : String(error);
    notices.push({ kind: 'internal-error', message: `internal error, file not checked: ${detail}` });
    return { findings: [], notices, checked: false };
  }
}
