// Finds the fenced ```latex blocks in hover markdown (CommonMark fences: ``` or ~~~, at most three
// spaces of indent, closed by a fence of the same character at least as long). Blocks of other
// languages are skipped whole, so a ```latex line inside them is not mistaken for an opening.

export interface MathBlock {
  /** Offset of the first character of the opening fence's line. */
  start: number;
  /** Offset just past the closing fence's line, before its line break (if any). */
  end: number;
  /** The opening fence's indent, which each content line also loses. */
  indent: string;
  /** The TeX between the fences, trimmed. */
  tex: string;
}

/** The fence language that marks TeX for typesetting. */
export const MATH_FENCE_LANGUAGE = 'latex';

const OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/;

interface Line {
  text: string;
  start: number;
  /** Offset just past the text, before the line break. */
  end: number;
}

function splitLines(markdown: string): Line[] {
  const lines: Line[] = [];
  const re = /\r\n|\n|\r/g;
  let start = 0;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    lines.push({ text: markdown.slice(start, m.index), start, end: m.index });
    start = m.index + m[0].length;
  }
  lines.push({ text: markdown.slice(start), start, end: markdown.length });
  return lines;
}

/** The closed ```latex blocks of `markdown`, in order. Unclosed blocks are left out. */
export function findMathBlocks(markdown: string): MathBlock[] {
  const lines = splitLines(markdown);
  const blocks: MathBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i].text);
    if (!open) continue;
    const [, indent, fence, info] = open;
    if (fence[0] === '`' && info.includes('`')) continue; // inline code, not a fence
    const language = info.trim().split(/\s+/)[0];
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j].text)) j++;
    if (j >= lines.length) break; // unclosed: CommonMark runs it to the end; leave it as it is
    if (language.toLowerCase() === MATH_FENCE_LANGUAGE) {
      const body = lines
        .slice(i + 1, j)
        .map((line) => stripIndent(line.text, indent.length))
        .join('\n')
        .trim();
      blocks.push({ start: lines[i].start, end: lines[j].end, indent, tex: body });
    }
    i = j;
  }
  return blocks;
}

function stripIndent(text: string, n: number): string {
  let k = 0;
  while (k < n && text[k] === ' ') k++;
  return text.slice(k);
}
