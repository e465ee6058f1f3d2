// client/hoverMiddleware.ts against a small stand-in for the `vscode` module (just the classes and
// the settings/theme reads it uses), so its adaptation logic runs under mocha without VS Code.
import assert from 'node:assert/strict';
import Module from 'node:module';
import { HoverMathRenderer, ThemeKind } from '../../client/render';
import { imageUris } from './helpers';
import { hoverMarkdown } from './samples';

class MarkdownString {
  supportHtml = false;
  isTrusted: boolean | undefined;
  baseUri: unknown;
  constructor(
    public value = '',
    public supportThemeIcons = false,
  ) {}
}
class Hover {
  constructor(
    public contents: unknown[],
    public range?: unknown,
  ) {}
}
class Disposable {
  constructor(private readonly fn: () => void) {}
  dispose(): void {
    this.fn();
  }
}

const state = { mode: 'image' as string, kind: ThemeKind.Dark as number, themeListeners: [] as (() => void)[] };
const fakeVscode = {
  MarkdownString,
  Hover,
  Disposable,
  window: {
    get activeColorTheme() {
      return { kind: state.kind };
    },
    onDidChangeActiveColorTheme: (listener: () => void) => {
      state.themeListeners.push(listener);
      return new Disposable(() => state.themeListeners.splice(state.themeListeners.indexOf(listener), 1));
    },
  },
  workspace: {
    textDocuments: [],
    getConfiguration: () => ({ get: (_key: string, fallback: string) => state.mode ?? fallback }),
  },
};

type Middleware = typeof import('../../client/hoverMiddleware');
const moduleInternals = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };

describe('client/hoverMiddleware (with a stand-in vscode module)', () => {
  const resolve = moduleInternals._resolveFilename;
  let createHoverMiddleware: Middleware['createHoverMiddleware'];

  before(() => {
    moduleInternals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
      return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
    };
    require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: fakeVscode } as unknown as NodeJS.Module;
    ({ createHoverMiddleware } = require('../../client/hoverMiddleware') as Middleware);
  });

  after(() => {
    moduleInternals._resolveFilename = resolve;
    delete require.cache.vscode;
  });

  const document = { uri: { toString: () => 'file:///a.py' } };
  const token = { isCancellationRequested: false };

  async function hover(contents: unknown[], renderer = new HoverMathRenderer()): Promise<Hover> {
    const { middleware, disposable } = createHoverMiddleware(renderer);
    try {
      const next = async () => new Hover(contents, 'range');
      return (await middleware.provideHover!(document as never, {} as never, token as never, next as never)) as unknown as Hover;
    } finally {
      disposable.dispose();
    }
  }

  it('rewrites markdown contents into new untrusted MarkdownStrings with images, keeping the range', async () => {
    state.mode = 'image';
    const original = new MarkdownString(hoverMarkdown());
    original.isTrusted = true;
    const result = await hover([original, 'plain *markdown*']);
    assert.equal(result.range, 'range');
    const [first, second] = result.contents as [MarkdownString, string];
    assert.ok(first instanceof MarkdownString && first !== original);
    assert.equal(first.isTrusted, false);
    assert.equal(first.supportHtml, false);
    assert.equal(first.supportThemeIcons, false);
    assert.equal(imageUris(first.value).length, 1);
    assert.equal(second, 'plain *markdown*', 'contents without math are passed through');
  });

  it('honours nabla.hover.math text and off', async () => {
    const original = new MarkdownString(hoverMarkdown());
    state.mode = 'text';
    assert.equal((await hover([original])).contents[0], original);
    state.mode = 'off';
    const off = (await hover([original])).contents[0] as MarkdownString;
    assert.doesNotMatch(off.value, /```latex|data:/);
    assert.match(off.value, /Correct update: W ← W/);
    state.mode = 'bogus';
    assert.equal(imageUris(((await hover([original])).contents[0] as MarkdownString).value).length, 1, 'unknown values mean image');
    state.mode = 'image';
  });

  it('uses the active theme kind and clears the cache when the theme changes', async () => {
    const renderer = new HoverMathRenderer();
    const { middleware, disposable } = createHoverMiddleware(renderer);
    const next = async () => new Hover([new MarkdownString(hoverMarkdown())]);
    state.kind = ThemeKind.Light;
    const light = ((await middleware.provideHover!(document as never, {} as never, token as never, next as never)) as unknown as Hover).contents[0] as MarkdownString;
    assert.match(Buffer.from(imageUris(light.value)[0].split(',')[1], 'base64').toString(), /fill="#3b3b3b"/);
    assert.equal(renderer.size, 1);
    for (const listener of state.themeListeners) listener();
    assert.equal(renderer.size, 0);
    disposable.dispose();
    assert.equal(state.themeListeners.length, 0);
    state.kind = ThemeKind.Dark;
  });

  it('returns what the server gave when there is no hover or the request was cancelled', async () => {
    const { middleware, disposable } = createHoverMiddleware(new HoverMathRenderer());
    assert.equal(await middleware.provideHover!(document as never, {} as never, token as never, (async () => undefined) as never), undefined);
    const given = new Hover([new MarkdownString(hoverMarkdown())]);
    const cancelled = await middleware.provideHover!(document as never, {} as never, { isCancellationRequested: true } as never, (async () => given) as never);
    assert.equal(cancelled, given);
    disposable.dispose();
  });
});
