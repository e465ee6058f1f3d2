// The `nabla.*` settings the server reads: their type, defaults, and how untrusted values from
// the client are turned into that type. The client's package.json `contributes.configuration`
// declares the same keys; keep the two in step.
import type { Severity } from '../engine';

export interface NablaSettings {
  /** When false the server publishes no diagnostics at all. */
  enable: boolean;
  /** Only these rule codes (prefixes allowed, e.g. `NB1`). Empty: all rules. */
  select: string[];
  /** Never these rule codes (prefixes allowed). Applied after `select`. */
  ignore: string[];
  /** Per-code severity overrides, e.g. `{ "NB101": "warning" }`. */
  severity: Record<string, Severity>;
}

/** The configuration section the server asks the client for. */
export const SETTINGS_SECTION = 'nabla';

export const DEFAULT_SETTINGS: Readonly<NablaSettings> = Object.freeze({
  enable: true,
  select: [],
  ignore: [],
  severity: {},
});

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'information', 'hint'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, key: string, problems: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push(`nabla.${key} must be an array of rule codes`);
    return [];
  }
  const codes: string[] = [];
  for (const item of value) {
    if (typeof item === 'string' && item.trim() !== '') codes.push(item.trim().toUpperCase());
    else problems.push(`nabla.${key}: ignored ${JSON.stringify(item)}, not a rule code`);
  }
  return codes;
}

function severityMap(value: unknown, problems: string[]): Record<string, Severity> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    problems.push('nabla.severity must be an object mapping rule codes to severities');
    return {};
  }
  const result: Record<string, Severity> = {};
  for (const [code, severity] of Object.entries(value)) {
    const normalized = typeof severity === 'string' ? severity.toLowerCase() : severity;
    if (SEVERITIES.includes(normalized as Severity)) result[code.toUpperCase()] = normalized as Severity;
    else problems.push(`nabla.severity.${code}: ${JSON.stringify(severity)} is not one of ${SEVERITIES.join(', ')}`);
  }
  return result;
}

export interface ParsedSettings {
  settings: NablaSettings;
  /** Human-readable descriptions of values that were ignored. */
  problems: string[];
}

/**
 * Turns whatever the client sent for the `nabla` section (possibly null, partial, or wrong)
 * into complete settings. Bad values fall back to their defaults and are described in `problems`.
 */
export function parseSettings(raw: unknown): ParsedSettings {
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { settings: { ...DEFAULT_SETTINGS }, problems };
  if (!isRecord(raw)) {
    problems.push('the nabla settings section is not an object; using defaults');
    return { settings: { ...DEFAULT_SETTINGS }, problems };
  }
  let enable = DEFAULT_SETTINGS.enable;
  if (typeof raw.enable === 'boolean') enable = raw.enable;
  else if (raw.enable !== undefined && raw.enable !== null) problems.push('nabla.enable must be true or false');
  return {
    settings: {
      enable,
      select: stringList(raw.select, 'select', problems),
      ignore: stringList(raw.ignore, 'ignore', problems),
      severity: severityMap(raw.severity, problems),
    },
    problems,
  };
}

/** Asks the client for the `nabla` section as seen from one document (`workspace/configuration`). */
export type FetchSettings = (scopeUri: string) => Promise<unknown>;

/**
 * The `nabla` settings in an editor's `initializationOptions`: the object itself holds the keys
 * (`{ "select": ["NB1"] }`), or, as in a settings file, its `nabla` member does. Anything else
 * (no options, another shape) gives none.
 */
export function initializationSettings(options: unknown): Record<string, unknown> | undefined {
  if (!isRecord(options)) return undefined;
  return isRecord(options[SETTINGS_SECTION]) ? options[SETTINGS_SECTION] : options;
}

/**
 * The keys `over` sets (not null or undefined) over those of `under`. A section the client has
 * not set (null, or not an object) keeps `under` whole; a value of the wrong kind still wins, and
 * is reported, rather than silently falling back.
 */
function layered(under: Record<string, unknown> | undefined, over: unknown): unknown {
  if (!under) return over;
  if (!isRecord(over)) return over === undefined || over === null ? under : over;
  const out: Record<string, unknown> = { ...under };
  for (const [key, value] of Object.entries(over)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

/**
 * Settings per document. With a client that answers `workspace/configuration` (pull), each
 * document's settings are fetched once and cached until the configuration changes; otherwise the
 * settings pushed with `workspace/didChangeConfiguration` (or the defaults) apply to every document.
 *
 * Settings given in `initializationOptions` (editors other than VS Code often configure a server
 * only that way) are the base: a key the configuration (pulled or pushed) sets wins, a key it
 * leaves out, or a section it does not have, keeps the value from the initialization options.
 */
export class SettingsStore {
  private readonly cache = new Map<string, Promise<NablaSettings>>();
  private pushed: NablaSettings;
  private readonly reported = new Set<string>();
  private readonly initial: Record<string, unknown> | undefined;

  constructor(
    private readonly fetch: FetchSettings | undefined,
    private readonly log: (message: string) => void,
    /** The client's `initializationOptions`, as sent. */
    initializationOptions?: unknown,
  ) {
    this.initial = initializationSettings(initializationOptions);
    this.pushed = this.accept(undefined);
  }

  get(uri: string): Promise<NablaSettings> {
    if (!this.fetch) return Promise.resolve(this.pushed);
    let settings = this.cache.get(uri);
    if (!settings) {
      settings = this.fetch(uri).then(
        (raw) => this.accept(raw),
        (error: unknown) => {
          this.cache.delete(uri);
          this.log(`could not read the nabla settings for ${uri}: ${error instanceof Error ? error.message : String(error)}; using ${this.initial ? 'the initialization options' : 'defaults'}`);
          return this.accept(undefined);
        },
      );
      this.cache.set(uri, settings);
    }
    return settings;
  }

  /** The configuration changed: forget cached settings. `settings` is the pushed payload, if any. */
  changed(settings: unknown): void {
    this.cache.clear();
    if (!this.fetch) {
      const section = typeof settings === 'object' && settings !== null ? (settings as Record<string, unknown>)[SETTINGS_SECTION] : undefined;
      this.pushed = this.accept(section);
    }
  }

  forget(uri: string): void {
    this.cache.delete(uri);
  }

  /** Settings from what the client sent for the section (if anything), over the initialization options. */
  private accept(raw: unknown): NablaSettings {
    const { settings, problems } = parseSettings(layered(this.initial, raw));
    for (const problem of problems) {
      if (this.reported.has(problem)) continue;
      this.reported.add(problem);
      this.log(`settings: ${problem}`);
    }
    return settings;
  }
}
