// Questions about many spans at once, without scanning the whole list per question: the innermost
// of a list of spans (scopes, functions) that contains an offset (a file with thousands of functions
// asks once per update site), and whether a span holds or lies within one of a list (`overlapsAny`).
import type { Span } from '../ir';

/**
 * Answers exactly as the scan `best = items[0]; for (x of items) if (x contains offset &&
 * len(x) <= len(best)) best = x` would: the shortest containing span, the later item on a tie,
 * items[0] when none contains the offset. Syntax spans nest, so the candidates are the last span
 * starting at or before the offset and its enclosing spans; if some spans overlap without nesting
 * or stick out of items[0] (the file's span), it falls back to the scan.
 */
export class InnermostSpan<T extends { span: Span }> {
  /** Items by start, longer first; equal spans in list order. */
  private readonly sorted: T[] = [];
  /** For each sorted item, the index of the innermost sorted item containing it (-1: none). */
  private readonly parent: number[] = [];
  private readonly nested: boolean = true;

  constructor(private readonly items: readonly T[]) {
    const order = items.map((_, i) => i);
    // Equal spans: the earlier item first, so the later one is the inner (it wins ties).
    order.sort((a, b) => items[a].span.start - items[b].span.start || items[b].span.end - items[a].span.end || a - b);
    const stack: number[] = [];
    for (const i of order) {
      const span = items[i].span;
      while (stack.length > 0 && this.sorted[stack[stack.length - 1]].span.end <= span.start) stack.pop();
      const top = stack.length > 0 ? stack[stack.length - 1] : -1;
      if (top >= 0 && this.sorted[top].span.end < span.end) this.nested = false;
      if (span.start < items[0].span.start || span.end > items[0].span.end) this.nested = false; // items[0] must hold all
      this.sorted.push(items[i]);
      this.parent.push(top);
      stack.push(this.sorted.length - 1);
    }
  }

  at(offset: number): T {
    if (!this.nested) return this.scan(offset);
    // The last span starting at or before the offset, then outward until one contains it.
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].span.start <= offset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0; i = this.parent[i]) {
      const span = this.sorted[i].span;
      if (offset < span.end) return this.sorted[i];
    }
    return this.items[0];
  }

  private scan(offset: number): T {
    let best = this.items[0];
    for (const x of this.items) {
      if (x.span.start <= offset && offset < x.span.end && x.span.end - x.span.start <= best.span.end - best.span.start) best = x;
    }
    return best;
  }
}

/**
 * Whether a span holds one of `spans` or lies within one, by binary search over the spans sorted by
 * start (a file of 40,000 update statements must not compare each statement with each update).
 */
export function overlapsAny(spans: Span[]): (s: Span) => boolean {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  // The widest end among the spans that start at or before each index: what may still contain a later start.
  const reach: number[] = [];
  for (let i = 0; i < sorted.length; i++) reach.push(Math.max(sorted[i].end, i > 0 ? reach[i - 1] : -Infinity));
  return (s) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].start < s.start) lo = mid + 1;
      else hi = mid;
    }
    // One starting inside s and ending inside it; or one starting at or before s that reaches past its end.
    if (lo < sorted.length && sorted[lo].start >= s.start && sorted[lo].end <= s.end) return true;
    const before = lo < sorted.length && sorted[lo].start === s.start ? lo : lo - 1;
    return before >= 0 && reach[before] >= s.end;
  };
}

/** A list of spans that nest (syntax: loops, blocks), asked which of them hold a span. */
export interface NestedSpans<T extends { span: Span }> {
  /** The items whose span holds `span`, outermost first. */
  around(span: Span): T[];
}

/**
 * Answers as the scan `items.filter((x) => x holds span)` would (sorted by start), by following the
 * last item starting at or before the span out through the items that hold it: any item holding the
 * span holds that last one too, when spans nest. If some overlap without nesting, it falls back to the scan.
 */
export function nestedSpans<T extends { span: Span }>(items: readonly T[]): NestedSpans<T> {
  const sorted = [...items].sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
  const parent: number[] = [];
  const stack: number[] = [];
  let nested = true;
  for (let i = 0; i < sorted.length; i++) {
    const span = sorted[i].span;
    while (stack.length > 0 && sorted[stack[stack.length - 1]].span.end <= span.start) stack.pop();
    const top = stack.length > 0 ? stack[stack.length - 1] : -1;
    if (top >= 0 && sorted[top].span.end < span.end) nested = false;
    parent.push(top);
    stack.push(i);
  }
  const holds = (x: T, s: Span): boolean => x.span.start <= s.start && s.end <= x.span.end;
  return {
    around(span: Span): T[] {
      if (!nested) return sorted.filter((x) => holds(x, span));
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid].span.start <= span.start) lo = mid + 1;
        else hi = mid;
      }
      const out: T[] = [];
      for (let i = lo - 1; i >= 0; i = parent[i]) if (holds(sorted[i], span)) out.push(sorted[i]);
      return out.reverse();
    },
  };
}
