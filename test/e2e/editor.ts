// What a user does and sees in the VS Code workbench, in terms of its DOM: open a file from the
// explorer, go to a line, read the squiggles, hover over a piece of code, read the Problems.
// The functions passed to page.evaluate run in the browser; `document` there is the page's.
import type { Locator, Page } from 'playwright-core';

// Browser globals, for the functions that run in the page only (tsconfig has no DOM library).
declare const document: any;

export interface Squiggle {
  severity: 'error' | 'warning' | 'info';
  /** 1-based line number as shown in the gutter. */
  line: number;
  /** The text of the line, as rendered. */
  lineText: string;
  /** The characters the squiggle is drawn under. */
  covered: string;
}

/** The editor of the active tab. */
export function activeEditor(page: Page): Locator {
  return page.locator('.part.editor .editor-instance .monaco-editor').filter({ visible: true }).first();
}

/** Opens a file by clicking its row in the explorer, and waits for its editor to show text. */
export async function openFromExplorer(page: Page, file: string): Promise<void> {
  await page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${file}"]`).click();
  await page.locator('.part.editor .tab.active', { hasText: file }).waitFor();
  await activeEditor(page).locator('.view-line').first().waitFor();
}

/** Go to Line (Ctrl+G), as a user would; waits until the line is rendered. */
export async function goToLine(page: Page, line: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  // The box opens with ":" typed (Go to Line); typing the number after it keeps that mode.
  await page.waitForFunction((el: any) => el.value === ':', await input.elementHandle());
  await page.keyboard.type(String(line));
  await page.locator('.quick-input-widget', { hasText: `line ${line}` }).waitFor();
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
  await activeEditor(page).locator('.line-numbers', { hasText: new RegExp(`^${line}$`) }).waitFor();
}

/** Every squiggle drawn in the active editor, with the line and the characters under it. */
export async function squiggles(page: Page): Promise<Squiggle[]> {
  return activeEditor(page).evaluate((editor: any) => {
    const clean = (s: string) => s.replace(/\u00a0/g, ' ');
    const overlapsRow = (el: any, top: number, bottom: number) => {
      const r = el.getBoundingClientRect();
      const mid = (r.top + r.bottom) / 2;
      return mid >= top && mid <= bottom;
    };
    const result: any[] = [];
    for (const squiggle of editor.querySelectorAll('.squiggly-error, .squiggly-warning, .squiggly-info')) {
      const box = squiggle.getBoundingClientRect();
      const viewLine = [...editor.querySelectorAll('.view-line')].find((l: any) => overlapsRow(l, box.top, box.bottom));
      const number = [...editor.querySelectorAll('.line-numbers')].find((n: any) => overlapsRow(n, box.top, box.bottom));
      let covered = '';
      if (viewLine) {
        const walker = document.createTreeWalker(viewLine, 4 /* NodeFilter.SHOW_TEXT */);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (let i = 0; i < node.data.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const r = range.getBoundingClientRect();
            const mid = (r.left + r.right) / 2;
            if (mid >= box.left && mid <= box.right) covered += node.data[i];
          }
        }
      }
      const cls = squiggle.className as string;
      result.push({
        severity: cls.includes('squiggly-error') ? 'error' : cls.includes('squiggly-warning') ? 'warning' : 'info',
        line: number ? Number(number.textContent) : -1,
        lineText: viewLine ? clean(viewLine.textContent) : '',
        covered: clean(covered),
      });
    }
    return result;
  });
}

/** The centre, in page coordinates, of the first occurrence of `text` on a rendered line. */
export async function textPosition(page: Page, line: number, text: string): Promise<{ x: number; y: number }> {
  const position = await activeEditor(page).evaluate(
    (editor: any, [line, text]: [number, string]) => {
      const number = [...editor.querySelectorAll('.line-numbers')].find((n: any) => n.textContent.trim() === String(line));
      if (!number) return undefined;
      const row = number.getBoundingClientRect();
      const viewLine = [...editor.querySelectorAll('.view-line')].find((l: any) => {
        const r = l.getBoundingClientRect();
        return Math.abs(r.top - row.top) < r.height / 2;
      });
      if (!viewLine) return undefined;
      const chars: { node: any; offset: number }[] = [];
      const walker = document.createTreeWalker(viewLine, 4 /* NodeFilter.SHOW_TEXT */);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) chars.push({ node, offset: i });
      }
      const lineText = chars.map((c) => c.node.data[c.offset]).join('').replace(/\u00a0/g, ' ');
      const start = lineText.indexOf(text);
      if (start < 0) return undefined;
      const range = document.createRange();
      range.setStart(chars[start].node, chars[start].offset);
      const last = chars[start + text.length - 1];
      range.setEnd(last.node, last.offset + 1);
      const r = range.getBoundingClientRect();
      return { x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2 };
    },
    [line, text] as [number, string],
  );
  if (!position) throw new Error(`"${text}" is not on the rendered line ${line}`);
  return position;
}

/**
 * Moves the mouse over `text` on `line` and returns the hover that shows `expected`.
 * The mouse first goes to the gutter, so each call opens a fresh hover.
 */
export async function hoverOver(page: Page, line: number, text: string, expected: string): Promise<Locator> {
  const editor = activeEditor(page);
  const gutter = await editor.locator('.margin-view-overlays').boundingBox();
  if (gutter) await page.mouse.move(gutter.x + 5, gutter.y + 5);
  await page.locator('.monaco-hover:visible').waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
  const { x, y } = await textPosition(page, line, text);
  await page.mouse.move(x - 8, y, { steps: 4 });
  await page.mouse.move(x, y, { steps: 4 });
  const hover = page.locator('.monaco-hover').filter({ hasText: expected }).first();
  await hover.waitFor({ state: 'visible', timeout: 20_000 });
  return hover;
}

/** The number of errors and warnings in the status bar's Problems item. */
export async function problemCounts(page: Page): Promise<{ errors: number; warnings: number }> {
  const label = (await page.locator('#status\\.problems').getAttribute('aria-label')) ?? '';
  // "No Problems", "Errors: 3", "Warnings: 1", "Errors: 3, Warnings: 1"
  const count = (what: string) => Number(new RegExp(`${what}: (\\d+)`).exec(label)?.[1] ?? 0);
  return { errors: count('Errors'), warnings: count('Warnings') };
}
